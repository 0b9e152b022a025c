"""The data migration that gives invoices issued before snapshots theirs, run on real rows."""

from decimal import Decimal
from importlib import import_module

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from orders.models import Order
from reports.invoices import InvoiceSnapshot, invoice_pdf
from reports.models import Invoice
from reports.services import invoice_ensure, invoice_regenerate
from reports.tests.factories import ACCENTED_WINES, paid_order
from reports.tests.pdf import pdf_text, read_invoice

pytestmark = pytest.mark.django_db

fill = import_module("reports.migrations.0003_invoice_snapshot_fill")


@pytest.fixture
def apps():
    """The models as the migration sees them (the live Invoice refuses to be edited)."""
    return MigrationLoader(connection).project_state(("reports", "0003_invoice_snapshot_fill")).apps


def snapshots() -> dict:
    return dict(Invoice.objects.values_list("number", "snapshot"))


def version_1(snapshot: dict) -> dict:
    """Return an invoice's snapshot of today, of an order with no delivery charge, in the shape
    the migration writes (version 1): no country, phone nor delivery, one VAT share at the
    settings' rate, no language (English)."""
    customer = {key: snapshot["customer"][key] for key in CUSTOMER_V1}
    [share] = snapshot["vat"]
    vat = [{"rate": str(settings.VAT_RATE), "amount": share["amount"]}]
    old = {key: value for key, value in snapshot.items() if key not in {"delivery", "language"}}
    return {**old, "customer": customer, "vat": vat, "version": 1}


CUSTOMER_V1 = ("name", "address", "postal_code", "city", "email")


def test_the_migration_builds_the_snapshot_numbering_takes_in_batches_and_reverses(
    apps, monkeypatch, settings
):
    settings.SHOP_LEGAL_NAME = "Caves Lagrézette SARL"
    settings.SHOP_VAT_NUMBER = "FR40123456789"
    monkeypatch.setattr(fill, "BATCH", 2)
    orders = [
        paid_order([(ACCENTED_WINES[0], Decimal("24.90"), 3)], first_name="Zoë"),
        paid_order(
            [(ACCENTED_WINES[1], Decimal("18.50"), 2), (ACCENTED_WINES[2], Decimal("1045.00"), 1)],
            coupon_code="AUTOMNE10",
            discount=Decimal("15.00"),
            city="Épernay",
        ),
        *(paid_order() for _ in range(3)),
    ]
    issued = {invoice_ensure(order_id=order.pk).number for order in orders}
    numbered = snapshots()
    assert set(numbered) == issued and all(numbered.values())

    fill.backwards(apps, None)
    assert all(snapshot == {} for snapshot in snapshots().values())

    fill.forwards(apps, None)
    assert snapshots() == {number: version_1(snapshot) for number, snapshot in numbered.items()}


def test_a_migrated_invoice_is_drawn_again_as_it_showed(apps, settings):
    settings.SHOP_LEGAL_NAME = "Caves Lagrézette SARL"
    order = paid_order(
        [(ACCENTED_WINES[0], Decimal("24.90"), 3)],
        coupon_code="AUTOMNE10",
        discount=Decimal("4.70"),
        last_name="Müller-Lüdenscheidt",
    )
    invoice = invoice_ensure(order_id=order.pk)
    shown = pdf_text(invoice_pdf(InvoiceSnapshot.from_json(version_1(invoice.snapshot))))
    fill.backwards(apps, None)

    fill.forwards(apps, None)

    assert pdf_text(read_invoice(invoice_regenerate(order_id=order.pk))) == shown


def test_the_migration_fills_only_empty_snapshots_from_the_order_as_it_is_now(apps):
    kept, emptied = (invoice_ensure(order_id=paid_order().pk) for _ in range(2))
    apps.get_model("reports", "Invoice").objects.filter(pk=emptied.pk).update(snapshot={})
    Order.objects.filter(pk__in=[kept.order_id, emptied.order_id]).update(city="Saint-Émilion")

    fill.forwards(apps, None)

    assert Invoice.objects.get(pk=kept.pk).snapshot == kept.snapshot
    assert kept.snapshot["customer"]["city"] == "Bordeaux"
    migrated = Invoice.objects.get(pk=emptied.pk).snapshot
    assert migrated["customer"]["city"] == "Saint-Émilion"
    assert migrated == {**version_1(emptied.snapshot), "customer": migrated["customer"]}
