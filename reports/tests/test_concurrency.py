"""Invoice numbers under real concurrency on PostgreSQL: threads, each with its own connection."""

import pytest

from orders.tests.test_concurrency import run_together
from reports.models import Invoice, InvoiceSequence
from reports.services import invoice_ensure
from reports.tests.factories import paid_order

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_concurrent_invoices_take_consecutive_numbers(postgres_only):
    orders = [paid_order() for _ in range(8)]
    results = run_together(8, lambda i: invoice_ensure(order_id=orders[i].pk))
    assert all(isinstance(r, Invoice) for r in results), results
    assert sorted(r.sequence for r in results) == list(range(1, 9))
    assert len({r.number for r in results}) == 8
    assert InvoiceSequence.objects.get().last == 8
    assert all(invoice.file for invoice in Invoice.objects.all())


def test_one_order_invoiced_by_many_at_once_gets_one_number(postgres_only):
    order = paid_order()
    results = run_together(6, lambda i: invoice_ensure(order_id=order.pk))
    assert all(isinstance(r, Invoice) for r in results), results
    assert {r.number for r in results} == {results[0].number}
    assert Invoice.objects.count() == 1
    assert InvoiceSequence.objects.get().last == 1
    invoice = Invoice.objects.get()
    assert invoice.file.storage.exists(invoice.file.name)
    from core.models import StoredFile

    assert StoredFile.objects.filter(name__startswith="invoices/").count() == 1
