import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from orders.models import Order
from orders.selectors import EXPORT_CHUNK, EXPORT_HEADER, order_export_rows
from orders.tests.factories import OrderFactory, OrderItemFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:orders_order_changelist")
EXPORT_URL = reverse("admin:orders_order_export")


def rows_of(response) -> list[dict]:
    text = response.content.decode("utf-8-sig")
    header, *rows = csv.reader(io.StringIO(text))
    assert header == EXPORT_HEADER
    return [dict(zip(header, row, strict=True)) for row in rows]


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


def test_export_rows_read_orders_in_chunks(django_assert_num_queries):
    for order in OrderFactory.create_batch(EXPORT_CHUNK + 1):
        OrderItemFactory(order=order)
    with django_assert_num_queries(3):  # the orders, then the items of each chunk of orders
        rows = list(order_export_rows(Order.objects.all()))
    assert len(rows) == EXPORT_CHUNK + 1
