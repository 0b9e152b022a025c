import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, OrderEmail, OrderEvent
from orders.selectors import EXPORT_HEADER
from orders.services import order_place
from orders.tests.factories import OrderFactory, OrderItemFactory, customer
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:orders_order_changelist")
EXPORT_URL = reverse("admin:orders_order_export")


def rows_of(response) -> list[dict]:
    text = response.content.decode("utf-8-sig")
    header, *rows = csv.reader(io.StringIO(text))
    assert header == EXPORT_HEADER
    return [dict(zip(header, row, strict=True)) for row in rows]


def change_url(order):
    return reverse("admin:orders_order_change", args=[order.pk])


def make_orders(count: int, items: int = 2) -> list[Order]:
    orders = OrderFactory.create_batch(count)
    for order in orders:
        OrderItemFactory.create_batch(items, order=order)
    return orders


def count_queries(client, url, django_assert_max_num_queries) -> int:
    client.get(url)  # warm-up: sessions, content types
    with django_assert_max_num_queries(100) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_changelist_queries_do_not_grow_with_orders(admin_client, django_assert_max_num_queries):
    make_orders(2)
    few = count_queries(admin_client, CHANGELIST, django_assert_max_num_queries)
    make_orders(40)
    many = count_queries(admin_client, CHANGELIST, django_assert_max_num_queries)
    assert few == many


def test_change_page_queries_do_not_grow_with_items(admin_client, django_assert_max_num_queries):
    small, large = make_orders(1, items=1)[0], make_orders(1, items=40)[0]
    for order in (small, large):
        OrderEvent.objects.create(order=order, kind="note", message="Called the customer")
    few = count_queries(admin_client, change_url(small), django_assert_max_num_queries)
    many = count_queries(admin_client, change_url(large), django_assert_max_num_queries)
    assert few == many


def test_change_page_shows_items_and_timeline(admin_client):
    wine = WineFactory(name="Barolo Monfalletto", stock=5)
    order = order_place(lines=[(wine.pk, 2)], customer=customer())
    page = admin_client.get(change_url(order)).content.decode()
    assert "Barolo Monfalletto" in page
    assert "Order placed by Camille Rodríguez" in page


def test_cancel_action_releases_stock_and_reports_refusals(admin_client):
    wine = WineFactory(stock=10)
    pending = order_place(lines=[(wine.pk, 3)], customer=customer())
    shipped = order_place(lines=[(wine.pk, 1)], customer=customer())
    Order.objects.filter(pk=shipped.pk).update(status=Order.Status.SHIPPED)
    response = admin_client.post(
        CHANGELIST,
        {"action": "cancel_selected", "_selected_action": [pending.pk, shipped.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "1 order(s) canceled" in page
    assert "cannot be moved to canceled" in page
    wine.refresh_from_db()
    assert wine.stock == 9
    event = pending.events.get(kind=OrderEvent.Kind.STATUS)
    assert event.actor == admin_client.user


def test_ship_action_moves_paid_orders_only(admin_client):
    paid, pending = OrderFactory(status=Order.Status.PAID), OrderFactory()
    admin_client.post(
        CHANGELIST, {"action": "ship_selected", "_selected_action": [paid.pk, pending.pk]}
    )
    paid.refresh_from_db()
    pending.refresh_from_db()
    assert (paid.status, pending.status) == (Order.Status.SHIPPED, Order.Status.PENDING)


def test_saving_the_form_keeps_a_status_changed_meanwhile(admin_client):
    order = OrderFactory()
    form = {
        "first_name": "Camille",
        "last_name": "Dupont",
        "email": order.email,
        "address": order.address,
        "postal_code": order.postal_code,
        "city": order.city,
        "note": "Customer asked for Saturday delivery",
        "items-TOTAL_FORMS": 0,
        "items-INITIAL_FORMS": 0,
        "events-TOTAL_FORMS": 0,
        "events-INITIAL_FORMS": 0,
    }
    # A payment lands while the merchant has the form open.
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)
    response = admin_client.post(change_url(order), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    order.refresh_from_db()
    assert (order.status, order.last_name) == (Order.Status.PAID, "Dupont")
    messages = list(order.events.values_list("message", flat=True))
    assert "Customer details changed: last name." in messages
    assert "Customer asked for Saturday delivery" in messages


@pytest.mark.parametrize("field", ["first_name", "last_name", "email", "address", "city"])
@pytest.mark.parametrize("control", ["\r\nBcc: victim@example.com", "\x1b", "\u2028"])
def test_the_form_refuses_control_characters_and_changes_nothing(admin_client, field, control):
    order = OrderFactory()
    form = {
        **{name: getattr(order, name) for name in ["first_name", "last_name", "email"]},
        **{name: getattr(order, name) for name in ["address", "postal_code", "city"]},
        "items-TOTAL_FORMS": 0,
        "items-INITIAL_FORMS": 0,
        "events-TOTAL_FORMS": 0,
        "events-INITIAL_FORMS": 0,
    }
    form[field] = "x" + control + form[field]
    before = Order.objects.values().get(pk=order.pk)

    response = admin_client.post(change_url(order), form)

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert Order.objects.values().get(pk=order.pk) == before
    assert not order.events.exists()


def test_failed_emails_are_flagged_in_the_list_and_shown_on_the_order(admin_client):
    failed, fine = OrderFactory(), OrderFactory()
    OrderEmail.objects.create(
        order=failed,
        kind=OrderEmail.Kind.CONFIRMATION,
        attempts=1,
        failed_at=timezone.now(),
        failure_reason="Recipient refused: 550 5.1.1 mailbox unavailable",
    )
    OrderEmail.objects.create(order=fine, kind=OrderEmail.Kind.CONFIRMATION, sent_at=timezone.now())

    listed = admin_client.get(CHANGELIST, {"emails": "failed"}).context["cl"].result_list
    assert list(listed) == [failed]
    page = admin_client.get(change_url(failed)).content.decode()
    assert "Order confirmation: FAILED" in page
    assert "550 5.1.1 mailbox unavailable" in page


def test_export_csv_neutralises_formulas(admin_client):
    order = OrderFactory(first_name='=HYPERLINK("http://evil")', total=Decimal("25.00"))
    OrderItemFactory(order=order, wine_name="+Cuvée", quantity=2)
    response = admin_client.post(
        CHANGELIST, {"action": "export_csv", "_selected_action": [order.pk]}
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, row = rows[0], rows[1]
    assert len(rows) == 2
    assert row[header.index("first_name")] == '\'=HYPERLINK("http://evil")'
    assert row[header.index("wine")] == "'+Cuvée"
    assert row[header.index("order_total")] == "25.00"


def test_admin_needs_login(client):
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_changelist_export_button_keeps_the_filters(admin_client):
    OrderFactory(status=Order.Status.PAID)
    html = admin_client.get(CHANGELIST + "?status__exact=paid").content.decode()
    assert f"{EXPORT_URL}?status__exact=paid" in html


def test_export_of_the_filtered_list_has_one_row_per_item(admin_client):
    paid = OrderFactory(status=Order.Status.PAID, coupon_code="SPRING")
    OrderItemFactory(order=paid, sku="A", wine_name="=Cuvée", quantity=2)
    OrderItemFactory(order=paid, sku="B", quantity=1)
    OrderItemFactory(order=OrderFactory(status=Order.Status.PENDING), sku="C")
    response = admin_client.post(
        EXPORT_URL + "?status__exact=paid", {"format": "0", "resource": "0"}
    )
    assert response.status_code == 200
    rows = rows_of(response)
    assert [(row["order"], row["sku"], row["quantity"]) for row in rows] == [
        (paid.number, "A", "2"),
        (paid.number, "B", "1"),
    ]
    assert rows[0]["wine"] == "'=Cuvée"
    assert rows[0]["coupon"] == "SPRING"


def test_export_needs_the_view_permission(client, django_user_model):
    user = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(user)
    assert client.post(EXPORT_URL, {"format": "0", "resource": "0"}).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(user)
    assert client.post(EXPORT_URL, {"format": "0", "resource": "0"}).status_code == 200


def test_flagged_orders_stand_out_in_the_order_list(admin_client):
    OrderFactory(payment_flagged=True, payment_flag_reason="Stripe reported 1 EUR")
    OrderFactory(status=Order.Status.PAID, paid_at="2026-11-26T10:00:00Z")
    page = admin_client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert "needs attention" in page
    flagged = admin_client.get(
        reverse("admin:orders_order_changelist"), {"payment_flagged__exact": "1"}
    )
    assert flagged.context["cl"].result_count == 1
