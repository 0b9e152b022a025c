"""Invoices issued before snapshots existed get theirs, built from their order as it is now and
the settings as they are now: what their PDF shows today, drawn again the same from here on.
Reversing empties the snapshots (and the migration before drops them).

The snapshot is built here rather than by reports.invoices so that this migration writes the
first shape of it (version 1, as reports.invoices.InvoiceSnapshot has it today) whatever that
code becomes. Batches commit one by one: the table is never locked whole, and a run cut short
goes on where it stopped, since only empty snapshots are filled.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import migrations, transaction
from django.utils import timezone

BATCH = 500
CENT = Decimal("0.01")


def _day(moment):
    return timezone.localdate(moment).isoformat() if moment else None


def snapshot(invoice) -> dict:
    order = invoice.order
    rate = settings.VAT_RATE
    vat = (order.total * rate / (1 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
    return {
        "number": invoice.number,
        "issued_on": _day(invoice.issued_at),
        "seller": {
            "legal_name": settings.SHOP_LEGAL_NAME,
            "address": list(settings.SHOP_ADDRESS),
            "email": settings.SHOP_INVOICE_EMAIL,
            "vat_number": settings.SHOP_VAT_NUMBER,
            "company_number": settings.SHOP_COMPANY_NUMBER,
        },
        "customer": {
            "name": f"{order.first_name} {order.last_name}",
            "address": order.address,
            "postal_code": order.postal_code,
            "city": order.city,
            "email": order.email,
        },
        "order": {
            "number": order.number,
            "placed_on": _day(order.created),
            "paid_on": _day(order.paid_at),
        },
        "currency": order.currency,
        "currency_symbol": settings.SHOP_CURRENCY_SYMBOL,
        "lines": [
            {
                "sku": item.sku,
                "wine_name": item.wine_name,
                "vintage": item.vintage,
                "unit_price": str(item.unit_price),
                "quantity": item.quantity,
                "line_total": str(item.line_total),
            }
            for item in order.items.all()
        ],
        "subtotal": str(order.subtotal),
        "coupon_code": order.coupon_code,
        "discount": str(order.discount),
        "total": str(order.total),
        "vat": [{"rate": str(rate), "amount": str(vat)}],
        "total_excluding_vat": str(order.total - vat),
        "version": 1,
    }


def forwards(apps, schema_editor):
    Invoice = apps.get_model("reports", "Invoice")
    last = 0
    while True:
        with transaction.atomic():
            batch = list(
                Invoice.objects.filter(pk__gt=last)
                .select_related("order")
                .prefetch_related("order__items")
                .order_by("pk")[:BATCH]
            )
            if not batch:
                return
            empty = [invoice for invoice in batch if not invoice.snapshot]
            for invoice in empty:
                invoice.snapshot = snapshot(invoice)
            Invoice.objects.bulk_update(empty, ["snapshot"])
            last = batch[-1].pk


def backwards(apps, schema_editor):
    apps.get_model("reports", "Invoice").objects.update(snapshot={})


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orders", "0007_placement_limits"),
        ("reports", "0002_invoice_snapshot"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
