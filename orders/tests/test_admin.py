import csv
import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core import admin_paginator
from core.admin_paginator import LargeTablePaginator
from orders.models import Order, OrderEmail, OrderEvent, Refund
from orders.refunds import RefundLineRequest, refund_record_external, refund_request, refund_succeed
from orders.selectors import EXPORT_HEADER
from orders.tests.factories import (
    OrderFactory,
    OrderItemFactory,
    customer,
    france_zone,
    paid_order,
    place,
)
from shop.models import Wine
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


def count_queries(client, url) -> int:
    client.get(url)  # warm-up: sessions, content types
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


# The session, user and permissions, the count, the page of orders, the filters and actions.
CHANGELIST_QUERIES = 4
# The session, user and permissions, the order, its items, refunds, timeline and emails.
CHANGE_PAGE_QUERIES = 12


def test_changelist_queries_do_not_grow_with_orders(admin_client):
    make_orders(2)
    few = count_queries(admin_client, CHANGELIST)
    make_orders(60)  # more than a page
    assert (few, count_queries(admin_client, CHANGELIST)) == (CHANGELIST_QUERIES,) * 2


def test_change_page_queries_do_not_grow_with_items(admin_client):
    small, large = make_orders(1, items=1)[0], make_orders(1, items=30)[0]
    for order in (small, large):
        OrderEvent.objects.create(order=order, kind="note", message="Called the customer")
    few = count_queries(admin_client, change_url(small))
    many = count_queries(admin_client, change_url(large))
    assert (few, many) == (CHANGE_PAGE_QUERIES,) * 2


def test_change_page_shows_items_and_timeline(admin_client):
    wine = WineFactory(name="Barolo Monfalletto", price=Decimal("12.90"), stock=5)
    order = place(lines=[(wine.pk, 2)], customer=customer())
    page = admin_client.get(change_url(order)).content.decode()
    assert "Barolo Monfalletto" in page
    assert "Order placed by Camille Rodríguez" in page
    assert "1 line, €25.80; delivery to France" in page


def headings(page: str) -> list[str]:
    """Return the order page's section and inline titles, in the order they come."""
    titles = re.findall(r"<h2[^>]*>\s*([^<]+?)\s*<", page)
    return titles[titles.index("Order") :]


def test_the_order_page_opens_on_its_items_and_timeline_amounts_in_euros(admin_client):
    order = OrderFactory(
        total=Decimal("32.90"),
        discount=Decimal("5.00"),
        coupon_code="HIVER",
        delivery_charge=Decimal("9.90"),
    )
    OrderItemFactory(order=order, unit_price=Decimal("14.00"), quantity=2, line_total="28.00")
    OrderEvent.objects.create(order=order, kind="note", message="Called the customer")
    page = admin_client.get(change_url(order)).content.decode()
    titles = headings(page)
    # No refund yet: no empty table of them.
    assert titles[:4] == ["Order", "Items", "Timeline", "Note"], titles
    assert titles.index("Customer") > titles.index("Amounts")
    shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    for amount in ["€14.00", "€28.00", "−€5.00", "€9.90", "€32.90"]:
        assert amount in shown, amount


def test_the_order_list_shows_amounts_in_euros_and_numbers_on_one_line(admin_client):
    order = OrderFactory(status=Order.Status.PAID, paid_at=timezone.now(), total=Decimal("64.90"))
    page = admin_client.get(CHANGELIST).content.decode()
    assert f'<span class="whitespace-nowrap">{order.number}</span>' in page
    assert page.count('<span class="whitespace-nowrap">€64.90</span>') == 2  # total, net


def test_cancel_action_releases_stock_and_reports_refusals(admin_client):
    wine = WineFactory(stock=10)
    pending = place(lines=[(wine.pk, 3)], customer=customer())
    shipped = place(lines=[(wine.pk, 1)], customer=customer())
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


# Shipping


def ship_button(order):
    return reverse("admin:orders_order_ship", args=[order.pk])


def shipment_url(order):
    return reverse("admin:orders_order_shipment", args=[order.pk])


def test_mark_as_shipped_asks_for_the_carrier_and_tracking_number(admin_client):
    order = OrderFactory(status=Order.Status.PAID)
    page = admin_client.get(change_url(order)).content.decode()
    assert "Mark as shipped…" in page and "Ready for collection…" not in page
    response = admin_client.get(ship_button(order))
    assert (response.status_code, response["Location"]) == (302, shipment_url(order))
    page = admin_client.get(shipment_url(order)).content.decode()
    assert "La Poste Colissimo" in page and "Royal Mail" in page and "Other" in page
    assert 'name="tracking_number"' in page
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID  # a GET ships nothing


def test_mark_as_shipped_stores_the_shipment_and_owes_the_notice(
    admin_client, django_capture_on_commit_callbacks
):
    order = OrderFactory(status=Order.Status.PAID)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            shipment_url(order), {"carrier": "dhl", "tracking_number": "JJD 0001"}
        )
    assert (response.status_code, response["Location"]) == (302, change_url(order))
    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number) == (
        Order.Status.SHIPPED,
        "DHL Express",
        "JJD 0001",
    )
    event = order.events.get(kind=OrderEvent.Kind.STATUS)
    assert event.actor == admin_client.user
    assert event.message == "Order shipped with DHL Express, tracking JJD 0001."
    assert order.emails.get().kind == OrderEmail.Kind.SHIPPED
    page = admin_client.get(change_url(order)).content.decode()
    assert f"Order {order.number} is marked as shipped; the customer is emailed." in page
    assert "Mark as shipped…" not in page  # shipped: the button is gone


def test_another_carrier_is_named_by_the_merchant(admin_client):
    order = OrderFactory(status=Order.Status.PAID)
    response = admin_client.post(shipment_url(order), {"carrier": "other", "tracking_number": "1"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"other_carrier": ["Name the carrier."]}
    admin_client.post(
        shipment_url(order),
        {"carrier": "other", "other_carrier": "Coursier Bordelais", "tracking_number": "CB-1"},
    )
    order.refresh_from_db()
    assert (order.carrier, order.tracking_number) == ("Coursier Bordelais", "CB-1")


@pytest.mark.parametrize(
    ("form", "field", "error"),
    [
        ({"carrier": "ups", "tracking_number": "1Z/999"}, "tracking_number", "only letters"),
        ({"carrier": "ups", "tracking_number": "1" * 41}, "tracking_number", "at most 40"),
        ({"carrier": "ups", "tracking_number": "<b>1</b>"}, "tracking_number", "only letters"),
        ({"carrier": "", "tracking_number": "1Z999"}, "carrier", "Choose the carrier"),
        ({"carrier": "pigeon", "tracking_number": ""}, "carrier", "Select a valid choice"),
        ({"carrier": "other", "other_carrier": "x" * 51}, "other_carrier", "at most 50"),
    ],
)
def test_bad_shipment_input_is_shown_on_the_form_and_changes_nothing(
    admin_client, form, field, error
):
    order = OrderFactory(status=Order.Status.PAID)
    response = admin_client.post(shipment_url(order), form)
    assert response.status_code == 200
    assert error in " ".join(response.context["form"].errors[field])
    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number) == (Order.Status.PAID, "", "")
    assert not order.events.exists() and not order.emails.exists()


def test_clicking_mark_as_shipped_twice_ships_once_and_says_so(
    admin_client, django_capture_on_commit_callbacks
):
    order = OrderFactory(status=Order.Status.PAID)
    form = {"carrier": "ups", "tracking_number": "1Z999"}
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(shipment_url(order), form)
        second = admin_client.post(shipment_url(order), form, follow=True)
    assert f"Order {order.number} was already shipped on " in second.content.decode()
    assert order.events.filter(kind=OrderEvent.Kind.STATUS).count() == 1
    assert order.emails.count() == 1
    assert len(mail.outbox) == 1
    # The page itself, opened again, says so too rather than offering to ship.
    again = admin_client.get(shipment_url(order), follow=True).content.decode()
    assert "is shipped: only a paid order is shipped." in again


def test_a_click_and_collect_order_is_made_ready_for_collection(
    admin_client, django_capture_on_commit_callbacks
):
    order = OrderFactory(status=Order.Status.PAID, delivery_method="collect", address="")
    page = admin_client.get(change_url(order)).content.decode()
    assert "Ready for collection…" in page and "Mark as shipped…" not in page
    assert admin_client.get(ship_button(order)).status_code == 403
    page = admin_client.get(shipment_url(order)).content.decode()
    assert "Mark ready for collection" in page and 'name="tracking_number"' not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            shipment_url(order), {"carrier": "ups", "tracking_number": "1Z999"}, follow=True
        )
    assert f"Order {order.number} is ready for collection" in response.content.decode()
    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number) == (Order.Status.SHIPPED, "", "")
    assert order.events.get(kind=OrderEvent.Kind.STATUS).message == (
        "Order ready for collection at the shop."
    )
    assert mail.outbox[0].subject == f"Your order {order.number} is ready for collection"


def test_an_unpaid_order_has_no_ship_button_and_is_not_shipped(admin_client):
    order = OrderFactory()
    assert "Mark as shipped…" not in admin_client.get(change_url(order)).content.decode()
    assert admin_client.get(ship_button(order)).status_code == 403
    response = admin_client.post(shipment_url(order), {"carrier": "ups"}, follow=True)
    assert "cannot be moved to shipped" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING


def test_shipping_one_selected_order_leads_to_its_page_and_several_ship_without_tracking(
    admin_client,
):
    one, two, three = OrderFactory.create_batch(3, status=Order.Status.PAID)
    response = admin_client.post(
        CHANGELIST, {"action": "ship_selected", "_selected_action": [one.pk]}
    )
    assert (response.status_code, response["Location"]) == (302, shipment_url(one))
    assert Order.objects.get(pk=one.pk).status == Order.Status.PAID

    response = admin_client.post(
        CHANGELIST, {"action": "ship_selected", "_selected_action": [two.pk, three.pk]}, follow=True
    )
    assert "2 order(s) marked as shipped (or ready for collection), without tracking" in (
        response.content.decode()
    )
    assert set(Order.objects.values_list("status", flat=True)) == {"paid", "shipped"}
    assert OrderEmail.objects.filter(kind=OrderEmail.Kind.SHIPPED).count() == 2


def test_shipping_needs_the_change_order_permission(client, django_user_model):
    order = OrderFactory(status=Order.Status.PAID)
    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(user)
    assert "Mark as shipped…" not in client.get(change_url(order)).content.decode()
    assert client.get(shipment_url(order)).status_code == 403
    assert client.post(shipment_url(order), {"carrier": "ups"}).status_code == 403
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID

    user.user_permissions.add(Permission.objects.get(codename="change_order"))
    client.post(shipment_url(order), {"carrier": "ups"})
    assert Order.objects.get(pk=order.pk).status == Order.Status.SHIPPED


def test_saving_the_form_keeps_a_status_changed_meanwhile(admin_client):
    order = OrderFactory()
    form = {
        "first_name": "Camille",
        "last_name": "Dupont",
        "email": order.email,
        "phone": order.phone,
        "address": order.address,
        "postal_code": order.postal_code,
        "city": order.city,
        "note": "Customer asked for Saturday delivery",
        "items-TOTAL_FORMS": 0,
        "items-INITIAL_FORMS": 0,
        "refunds-TOTAL_FORMS": 0,
        "refunds-INITIAL_FORMS": 0,
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
        "refunds-TOTAL_FORMS": 0,
        "refunds-INITIAL_FORMS": 0,
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


def label_colour(page: str, text: str) -> str:
    """Return the colour of the unfold label showing text ("base" for its grey)."""
    classes = re.search(
        rf'<span class="(inline-block font-semibold[^"]*)"[^>]*>\s*{text}\s*<', page
    )
    assert classes, f"no label {text!r}"
    return re.search(r"\bbg-(\w+)-", classes.group(1)).group(1)


def test_each_status_has_a_colour_of_its_own_in_the_order_list(admin_client):
    for status in Order.Status:
        OrderFactory(status=status)
    page = admin_client.get(CHANGELIST).content.decode()
    colours = {status: label_colour(page, status.label) for status in Order.Status}
    assert len(set(colours.values())) == len(Order.Status), colours
    assert (colours[Order.Status.PAID], colours[Order.Status.CANCELED]) == ("green", "red")


def found(client, query: str) -> set[str]:
    """Return the numbers of the orders the list's search finds for query."""
    response = client.get(CHANGELIST, {"q": query})
    assert response.status_code == 200
    return {order.number for order in response.context["cl"].result_list}


def test_the_order_search_ignores_accents_and_case(admin_client):
    lefevre = OrderFactory(last_name="Lefèvre", email="jl@example.com")
    OrderFactory(last_name="Lefebvre")
    assert found(admin_client, "lefevre") == found(admin_client, "LEFÈVRE") == {lefevre.number}
    assert found(admin_client, "camille lefevre") == {lefevre.number}  # every word, any field
    assert found(admin_client, "JL@EXAMPLE") == {lefevre.number}


def test_the_order_search_finds_an_order_by_a_wine_it_holds_once(admin_client):
    order = OrderFactory()
    OrderItemFactory(order=order, wine_name="Château Lagrézette")
    OrderItemFactory(order=order, wine_name="Château Margaux")
    OrderItemFactory(order=OrderFactory(), wine_name="Clos Lagrezette")
    assert found(admin_client, "chateau") == {order.number}
    listed = admin_client.get(CHANGELIST, {"q": "chateau"}).context["cl"]
    assert (listed.result_count, [o.item_count for o in listed.result_list]) == (1, [2])
    assert len(found(admin_client, "lagrezette")) == 2


# Refunds


def refund_url(order):
    return reverse("admin:orders_order_refund", args=[order.pk])


def cancel_refund_url(order):
    return reverse("admin:orders_order_cancel_refund", args=[order.pk])


def allocate_url(refund):
    return reverse("admin:orders_order_refund_allocate", args=[refund.order_id, refund.pk])


def stock_of(item) -> int:
    return Wine.objects.get(pk=item.wine_id).stock


def payment_shown(client, order) -> str:
    """The order's payment column in the list."""
    listed = client.get(CHANGELIST).context["cl"]
    row = next(o for o in listed.result_list if o.pk == order.pk)
    return listed.model_admin.payment(row)


def refund_form(item, quantity="1", restock=True, **extra) -> dict:
    form = {f"quantity_{item.pk}": quantity, "reason": "corked", **extra}
    if restock:
        form[f"restock_{item.pk}"] = "on"
    return form


@pytest.fixture
def clerk(client, django_user_model):
    """Staff allowed to change orders (an address, a note) but not to give money back."""
    user = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_order", "change_order", "view_refund"])
    )
    client.force_login(user)
    return client


def test_a_bottle_refunded_from_the_order_page_is_previewed_confirmed_then_shown(admin_client):
    order = paid_order(("12.50", 3))
    item = order.items.get()
    assert "Refund…" in admin_client.get(change_url(order)).content.decode()
    page = admin_client.get(refund_url(order)).content.decode()
    assert item.wine_name in page and "Bottles left to refund" in page

    preview = admin_client.post(refund_url(order), refund_form(item, preview=""))
    assert preview.status_code == 200
    assert "Confirm the refund of €12.50" in preview.content.decode()
    assert not Refund.objects.exists()  # nothing written before it is confirmed

    response = admin_client.post(refund_url(order), refund_form(item, confirm="", quoted="12.50"))

    assert response.status_code == 302
    assert response["Location"] == change_url(order)
    shown = admin_client.get(response["Location"]).content.decode()
    assert "Refund of €12.50 requested: it is sent to Stripe" in shown
    refund = Refund.objects.get()
    assert (refund.status, refund.amount, refund.reason, refund.created_by) == (
        Refund.Status.PENDING,
        Decimal("12.50"),
        "corked",
        admin_client.user,
    )
    assert [(ln.item, ln.quantity, ln.restock, ln.amount) for ln in refund.lines.all()] == [
        (item, 1, True, Decimal("12.50"))
    ]
    assert stock_of(item) == 21  # back on sale once Stripe gave the money back

    refund_succeed(refund_id=refund.pk, stripe_refund_id="re_admin")  # as payments does

    assert stock_of(item) == 22
    page = admin_client.get(change_url(order)).content.decode()
    assert "re_admin" in page and "1 × " + item.wine_name + " (back on sale)" in page
    assert payment_shown(admin_client, order) == "partially refunded"
    listed = admin_client.get(CHANGELIST, {"refunds": "partial"}).context["cl"].result_list
    assert list(listed) == [order]


def test_a_goodwill_amount_is_refunded_without_bottles(admin_client):
    order = paid_order(("12.50", 3))
    item = order.items.get()
    form = {f"quantity_{item.pk}": "0", "amount": "5", "reason": "late", "quoted": "5.00"}
    admin_client.post(refund_url(order), {**form, "confirm": ""})
    refund = Refund.objects.get()
    assert (refund.amount, refund.lines.count()) == (Decimal("5.00"), 0)


def test_a_confirmation_for_an_amount_moved_since_the_preview_asks_again(admin_client):
    order = paid_order(("12.50", 3))
    item = order.items.get()
    response = admin_client.post(
        refund_url(order), refund_form(item, quantity="2", confirm="", quoted="12.50")
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "The amount changed" in page and "Confirm the refund of €25.00" in page
    assert not Refund.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"quantity": "-1"},
        {"quantity": "4"},  # 3 bottles sold
        {"quantity": "two"},
        {"quantity": "1", "amount": "-5"},
        {"quantity": "1", "amount": "lots"},
        {"quantity": "0"},  # nothing to refund
        {"quantity": "1", "reason": ""},
    ],
)
def test_bad_input_on_the_refund_page_is_refused_and_changes_nothing(admin_client, change):
    order = paid_order(("12.50", 3))
    item = order.items.get()
    form = refund_form(item, quantity=change.pop("quantity"), confirm="", quoted="12.50")
    form.update(change)
    response = admin_client.post(refund_url(order), form)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Refund.objects.exists()
    assert Order.objects.get(pk=order.pk).refunds_committed == 0


def test_lines_of_another_order_are_not_read_by_the_refund_page(admin_client):
    order, other = paid_order(("12.50", 3)), paid_order(("9.00", 2))
    response = admin_client.post(
        refund_url(order), refund_form(other.items.get(), confirm="", quoted="9.00")
    )
    assert response.status_code == 200
    assert "Choose the bottles to refund, or an amount." in response.content.decode()
    assert not Refund.objects.exists()


def test_a_refund_the_services_refuse_comes_back_as_a_form_error(admin_client):
    order = paid_order(("12.50", 3))
    item = order.items.get()
    form = refund_form(item, quantity="0", amount="500", confirm="", quoted="500.00")
    response = admin_client.post(refund_url(order), form)
    assert response.status_code == 200
    assert "Only €37.50 of order" in response.content.decode()
    assert not Refund.objects.exists()


def test_bottles_refunded_meanwhile_come_back_as_a_form_error(admin_client):
    order = paid_order(("12.50", 3))
    item = order.items.get()
    page = admin_client.get(refund_url(order))  # the merchant opens the page: 3 bottles left
    assert page.status_code == 200
    refund_request(
        order_id=order.pk,
        lines=[RefundLineRequest(item_id=item.pk, quantity=2)],
        reason="",
        actor=None,
    )
    response = admin_client.post(
        refund_url(order), refund_form(item, quantity="3", confirm="", quoted="37.50")
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Refund.objects.count() == 1


def test_an_unpaid_order_has_no_refund_buttons_and_its_refund_pages_are_refused(admin_client):
    wine = WineFactory(stock=5)
    order = place(lines=[(wine.pk, 2)], customer=customer())
    page = admin_client.get(change_url(order)).content.decode()
    assert "Refund…" not in page and "Cancel and refund…" not in page
    assert admin_client.get(refund_url(order)).status_code == 403
    assert admin_client.post(cancel_refund_url(order), {"reason": "x"}).status_code == 403
    assert not Refund.objects.exists()


def test_a_clerk_without_the_refund_permission_gets_403(clerk):
    order = paid_order(("12.50", 3))
    item = order.items.get()
    external = refund_record_external(order_id=order.pk, stripe_refund_id="re_d", amount=1)
    assert "Refund…" not in clerk.get(change_url(order)).content.decode()
    assert clerk.get(refund_url(order)).status_code == 403
    form = refund_form(item, confirm="", quoted="12.50")
    assert clerk.post(refund_url(order), form).status_code == 403
    assert clerk.post(cancel_refund_url(order), {"reason": "x"}).status_code == 403
    assert clerk.post(allocate_url(external), refund_form(item)).status_code == 403
    assert Refund.objects.count() == 1
    assert not Refund.objects.get().lines.exists()


def test_a_paid_order_canceled_in_the_admin_is_refunded_once_and_canceled_when_it_succeeds(
    admin_client,
):
    order = paid_order(("12.50", 3), ("20.00", 2))
    kept, broken = order.items.order_by("pk")
    page = admin_client.get(cancel_refund_url(order))
    assert "Cancel the order and refund €77.50" in page.content.decode()
    assert page.context["form"][f"restock_{kept.pk}"].value() is True  # back on sale unless said

    response = admin_client.post(
        cancel_refund_url(order),
        {f"restock_{kept.pk}": "on", "reason": "customer changed their mind"},
    )

    assert response.status_code == 302
    refund = Refund.objects.get()
    assert (refund.amount, refund.cancels_order, refund.status) == (
        Decimal("77.50"),
        True,
        Refund.Status.PENDING,
    )
    assert [(ln.item, ln.quantity, ln.restock) for ln in refund.lines.all()] == [
        (kept, 3, True),
        (broken, 2, False),
    ]
    # Asked again (a second click), nothing more is refunded.
    assert admin_client.post(cancel_refund_url(order), {"reason": "again"}).status_code == 403
    assert Refund.objects.count() == 1

    refund_succeed(refund_id=refund.pk, stripe_refund_id="re_cancel")

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELED
    assert (stock_of(kept), stock_of(broken)) == (24, 22)
    assert payment_shown(admin_client, order) == "refunded"
    page = admin_client.get(change_url(order)).content.decode()
    assert "cancels the order" in page and "Cancel and refund…" not in page


def test_a_shipped_order_is_refunded_but_not_canceled(admin_client):
    order = paid_order(("12.50", 3))
    Order.objects.filter(pk=order.pk).update(status=Order.Status.SHIPPED)
    page = admin_client.get(change_url(order)).content.decode()
    assert "Refund…" in page and "Cancel and refund…" not in page
    assert admin_client.get(cancel_refund_url(order)).status_code == 403


def test_the_cancel_action_leaves_paid_orders_to_be_refunded_from_their_page(admin_client):
    wine = WineFactory(stock=10)
    pending = place(lines=[(wine.pk, 3)], customer=customer())
    paid = paid_order(("12.50", 1))
    response = admin_client.post(
        CHANGELIST,
        {"action": "cancel_selected", "_selected_action": [pending.pk, paid.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "1 order(s) canceled" in page
    assert f"1 paid order(s) not canceled ({paid.number})" in page
    assert "Cancel and refund…" in page
    assert Order.objects.get(pk=paid.pk).status == Order.Status.PAID
    assert not Refund.objects.exists()


def test_a_refund_made_in_stripe_is_allocated_from_the_order_page(admin_client):
    order = paid_order(("12.50", 3))
    item = order.items.get()
    external = refund_record_external(order_id=order.pk, stripe_refund_id="re_d", amount=12.5)
    page = admin_client.get(change_url(order)).content.decode()
    assert allocate_url(external) in page and "Allocate…" in page

    bad = admin_client.post(allocate_url(external), refund_form(item, quantity="9"))
    assert bad.status_code == 200 and bad.context["form"].errors
    response = admin_client.post(allocate_url(external), refund_form(item))

    assert response.status_code == 302
    external.refresh_from_db()
    assert external.allocated
    assert [(ln.item, ln.quantity, ln.restock) for ln in external.lines.all()] == [(item, 1, True)]
    assert stock_of(item) == 22
    assert allocate_url(external) not in admin_client.get(change_url(order)).content.decode()
    assert admin_client.post(allocate_url(external), refund_form(item)).status_code == 302
    assert external.lines.count() == 1


def test_a_refund_of_another_order_is_not_allocated_through_this_one(admin_client):
    order, other = paid_order(("12.50", 3)), paid_order(("9.00", 2))
    external = refund_record_external(order_id=other.pk, stripe_refund_id="re_d", amount=9)
    url = reverse("admin:orders_order_refund_allocate", args=[order.pk, external.pk])
    assert admin_client.post(url, refund_form(other.items.get())).status_code == 404
    assert not external.lines.exists()


def test_a_failed_refund_is_shown_failed(admin_client):
    from orders.refunds import refund_fail

    order = paid_order(("12.50", 3))
    item = order.items.get()
    refund = refund_request(
        order_id=order.pk, lines=[RefundLineRequest(item.pk, 1)], reason="", actor=None
    )
    refund_fail(refund_id=refund.pk, reason="card closed")
    page = admin_client.get(change_url(order)).content.decode()
    assert "Failed" in page and "card closed" in page
    assert payment_shown(admin_client, order) == "paid"


def add_refunds(order, count: int) -> None:
    for item in order.items.all()[:count]:
        refund = refund_request(
            order_id=order.pk, lines=[RefundLineRequest(item.pk, 1)], reason="", actor=None
        )
        refund_succeed(refund_id=refund.pk)


def test_changelist_queries_do_not_grow_with_refunded_orders(admin_client):
    add_refunds(paid_order(("12.50", 3)), 1)
    few = count_queries(admin_client, CHANGELIST)
    for _ in range(10):
        add_refunds(paid_order(("12.50", 3), ("9.00", 2)), 2)
    many = count_queries(admin_client, CHANGELIST)
    assert few == many


def test_change_page_queries_do_not_grow_with_refunds(admin_client):
    small = paid_order(("12.50", 3))
    add_refunds(small, 1)
    large = paid_order(*[("5.00", 2)] * 12)
    add_refunds(large, 12)
    few = count_queries(admin_client, change_url(small))
    many = count_queries(admin_client, change_url(large))
    assert few == many


def test_change_page_shows_the_delivery_and_the_age_confirmed(admin_client):
    france_zone(price="9.90")
    order = place(lines=[(WineFactory(price=Decimal("12.90"), stock=5).pk, 2)])

    page = admin_client.get(change_url(order)).content.decode().lower()

    for shown in ["france", "+33 5 56 00 00 00", "9.90", "20 %", "minimum age", "age confirmed"]:
        assert shown in page
    listed = admin_client.get(
        CHANGELIST, {"delivery_method__exact": "delivery", "country__exact": "FR"}
    )
    assert order.number in listed.content.decode()


@pytest.fixture
def count_exactly_up_to_5(postgres_only, monkeypatch):
    monkeypatch.setattr(admin_paginator, "EXACT_UP_TO", 5)


def analyzed() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")


@pytest.mark.postgres
def test_an_order_list_up_to_the_limit_is_counted_exactly(
    count_exactly_up_to_5, django_assert_num_queries
):
    OrderFactory.create_batch(5)
    with django_assert_num_queries(1):
        assert LargeTablePaginator(Order.objects.all(), 50).count == 5


@pytest.mark.postgres
def test_a_larger_order_list_is_counted_from_the_tables_estimate_in_one_query(
    count_exactly_up_to_5, admin_client, django_assert_num_queries
):
    OrderFactory.create_batch(12)
    analyzed()
    OrderFactory.create_batch(3)  # not analyzed yet: the estimate lags behind
    with django_assert_num_queries(1):
        assert LargeTablePaginator(Order.objects.all(), 50).count == 12
    response = admin_client.get(CHANGELIST)
    assert response.context["cl"].result_count == 12
    assert count_queries(admin_client, CHANGELIST) == CHANGELIST_QUERIES


@pytest.mark.postgres
def test_a_filtered_order_list_is_counted_exactly(count_exactly_up_to_5, admin_client):
    OrderFactory.create_batch(12, city="Lyon")
    OrderFactory.create_batch(2, city="Reims")
    analyzed()
    assert LargeTablePaginator(Order.objects.filter(city="Reims"), 50).count == 2
    response = admin_client.get(CHANGELIST, {"status__exact": "pending"})
    assert response.context["cl"].result_count == Order.objects.filter(status="pending").count()
