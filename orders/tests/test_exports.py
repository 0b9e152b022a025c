"""The orders' spreadsheets: the changelist's Export (CSV) and the "Export to CSV" action."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from orders.models import Order
from orders.selectors import EXPORT_HEADER
from orders.tests.factories import OrderFactory, OrderItemFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:orders_order_changelist")
EXPORT_URL = reverse("admin:orders_order_export")
CSV_FORMAT = "0"


def late_order() -> Order:
    """An order placed at 23:50 UTC on New Year's Eve (00:50 on 1 January in Paris)."""
    order = OrderFactory(first_name="Hélène", last_name="Lefèvre")
    OrderItemFactory(order=order, wine_name="Château Côte-Rôtie")
    placed = datetime(2025, 12, 31, 23, 50, tzinfo=UTC)
    Order.objects.filter(pk=order.pk).update(created=placed, paid_at=placed)
    return order


def rows_of(content: bytes) -> list[dict]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the file as UTF-8
    header, *rows = csv.reader(io.StringIO(content.decode("utf-8-sig")))
    assert header == EXPORT_HEADER
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_export_button_csv_opens_in_excel_with_local_times(admin_client, settings):
    settings.TIME_ZONE = "Europe/Paris"
    late_order()

    response = admin_client.post(EXPORT_URL, {"format": CSV_FORMAT, "resource": "0"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    (row,) = rows_of(response.content)
    assert (row["first_name"], row["last_name"]) == ("Hélène", "Lefèvre")
    assert row["wine"] == "Château Côte-Rôtie"
    assert row["placed"] == "2026-01-01 00:50:00"
    assert row["paid"] == "2026-01-01 00:50:00"


def test_export_action_csv_has_local_times(admin_client, settings):
    settings.TIME_ZONE = "Europe/Paris"
    order = late_order()
    unpaid = OrderItemFactory(order=OrderFactory(paid_at=None)).order

    response = admin_client.post(
        CHANGELIST, {"action": "export_csv", "_selected_action": [order.pk, unpaid.pk]}
    )

    late, other = rows_of(response.content)
    assert late["placed"] == "2026-01-01 00:50:00"
    assert late["last_name"] == "Lefèvre"
    assert other["paid"] == ""
