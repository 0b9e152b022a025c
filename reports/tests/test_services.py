from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from orders.models import Order
from orders.tests.factories import OrderFactory
from orders.tests.test_concurrency import run_together
from reports.exceptions import InvalidPeriod, NotInvoiceable
from reports.models import Invoice, InvoiceSequence, Report
from reports.services import (
    invoice_ensure,
    invoice_regenerate,
    report_build,
    report_daily,
    report_request,
    report_retry,
)
from reports.tests.factories import ACCENTED_WINES, DAY, at, paid_order
from reports.tests.pdf import pdf_text, read_invoice

pytestmark = pytest.mark.django_db


def test_invoice_is_made_once_with_one_number():
    order = paid_order()
    first = invoice_ensure(order_id=order.pk)
    second = invoice_ensure(order_id=order.pk)
    assert second.pk == first.pk
    assert second.number == first.number
    assert second.file.name == first.file.name
    assert Invoice.objects.count() == 1
    assert InvoiceSequence.objects.get().last == 1


def test_numbers_follow_each_other_without_gaps():
    orders = [paid_order() for _ in range(4)]
    numbers = [invoice_ensure(order_id=order.pk).sequence for order in reversed(orders)]
    assert numbers == [1, 2, 3, 4]


def test_an_unpaid_order_has_no_invoice_and_takes_no_number():
    order = OrderFactory(status=Order.Status.PENDING)
    with pytest.raises(NotInvoiceable):
        invoice_ensure(order_id=order.pk)
    assert not Invoice.objects.exists()
    assert InvoiceSequence.objects.filter(last__gt=0).count() == 0
    assert invoice_ensure(order_id=paid_order().pk).sequence == 1


def test_regenerating_keeps_the_number_and_shows_the_corrected_details():
    order = paid_order(city="Bordeaux")
    invoice = invoice_ensure(order_id=order.pk)
    old_file = invoice.file.name
    Order.objects.filter(pk=order.pk).update(city="Saint-Émilion")

    again = invoice_regenerate(order_id=order.pk)

    assert (again.pk, again.number, again.issued_at) == (
        invoice.pk,
        invoice.number,
        invoice.issued_at,
    )
    assert "Saint-Émilion" in pdf_text(read_invoice(again))
    assert again.file.name != old_file
    assert not again.file.storage.exists(old_file)
    assert InvoiceSequence.objects.get().last == 1
    assert order.events.filter(message__contains="generated again").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_concurrent_invoices_take_consecutive_numbers(postgres_only):
    orders = [paid_order() for _ in range(8)]
    results = run_together(8, lambda i: invoice_ensure(order_id=orders[i].pk))
    assert all(isinstance(r, Invoice) for r in results), results
    assert sorted(r.sequence for r in results) == list(range(1, 9))
    assert len({r.number for r in results}) == 8
    assert InvoiceSequence.objects.get().last == 8
    assert all(invoice.file for invoice in Invoice.objects.all())


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
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


def test_report_periods_are_checked_and_start_on_their_first_day(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False):
        report = report_request(kind="month", start=DAY)
    assert (report.start, report.end, report.status) == (
        date(2026, 3, 1),
        date(2026, 4, 1),
        "queued",
    )
    with pytest.raises(InvalidPeriod):
        report_request(kind="year", start=DAY)
    with pytest.raises(InvalidPeriod):
        report_request(kind="day", start=date(2999, 1, 1))
    assert Report.objects.count() == 1


def test_a_requested_report_is_built_by_its_task_with_pdf_and_csv(
    django_capture_on_commit_callbacks, admin_user
):
    paid_order(
        [(ACCENTED_WINES[2], Decimal("42.00"), 2)],
        coupon_code="BAROLO5",
        discount=Decimal("5.00"),
        paid_at=at(DAY, 15),
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = report_request(kind="week", start=DAY, requested_by=admin_user)
    report.refresh_from_db()
    assert report.status == Report.Status.DONE
    assert report.started_at <= report.finished_at
    with report.pdf.open("rb") as handle:
        text = pdf_text(handle.read())
    for expected in [
        "sales report",
        "week of 09 March to 15 March 2026",
        ACCENTED_WINES[2],
        "79.00 €",
        "BAROLO5",
        "Revenue per day",
        "Revenue by category",
        "Page 1 of",
    ]:
        assert expected in text, expected
    with report.csv.open("rb") as handle:
        assert "Cordero di Montezemolo" in handle.read().decode()


def test_building_twice_keeps_the_first_files():
    report = Report.objects.create(kind="day", start=DAY)
    first = report_build(report_id=report.pk)
    second = report_build(report_id=report.pk)
    assert (second.pdf.name, second.csv.name) == (first.pdf.name, first.csv.name)
    assert second.finished_at == first.finished_at


def test_a_report_that_cannot_be_built_fails_with_its_reason(django_capture_on_commit_callbacks):
    report = Report.objects.create(kind="month", start=date(9999, 12, 1))
    built = report_build(report_id=report.pk)
    assert built.status == Report.Status.FAILED
    assert "OverflowError" in built.error
    assert not built.pdf
    assert report_retry(report_id=report.pk - 1000) is False
    with django_capture_on_commit_callbacks(execute=True):
        assert report_retry(report_id=report.pk) is True
    assert Report.objects.get(pk=report.pk).status == Report.Status.FAILED


def test_the_morning_report_goes_once_to_the_list_and_the_merchants(settings, django_user_model):
    settings.REPORT_EMAILS = ["accounts@example.com"]
    merchants = Group.objects.create(name="Merchants")
    for name, fields in {
        "ana": {"is_staff": True},
        "ben": {"is_staff": True, "is_active": False},
        "cy": {"is_staff": False},
    }.items():
        user = django_user_model.objects.create_user(name, f"{name}@example.com", "pw", **fields)
        user.groups.add(merchants)
    django_user_model.objects.create_user("dee", "dee@example.com", "pw", is_staff=True)
    paid_order(paid_at=at(DAY, 9))

    report = report_daily(day=DAY)
    again = report_daily(day=DAY)

    assert again.pk == report.pk
    assert report.status == Report.Status.DONE and report.emailed_at is not None
    [message] = mail.outbox
    assert sorted(message.to) == ["accounts@example.com", "ana@example.com"]
    assert [name for name, _, _ in message.attachments] == [
        "sales-day-2026-03-14.pdf",
        "sales-day-2026-03-14.csv",
    ]
    assert "Saturday 14 March 2026" in pdf_text(message.attachments[0][1])


def test_the_morning_report_is_built_for_yesterday(settings):
    settings.REPORT_EMAILS = []
    report = report_daily()
    assert report.start == timezone.localdate() - timedelta(days=1)
    assert report.kind == "day" and report.scheduled
    assert mail.outbox == []  # nobody to send it to


def test_a_report_requested_while_the_broker_is_away_waits_and_can_be_queued_again(
    django_capture_on_commit_callbacks,
):
    from backoffice.tests.workers import broker_away

    with broker_away(), django_capture_on_commit_callbacks(execute=True):
        report = report_request(kind="day", start=DAY)
    assert Report.objects.get(pk=report.pk).status == Report.Status.QUEUED
    with django_capture_on_commit_callbacks(execute=True):
        assert report_retry(report_id=report.pk) is True
    assert Report.objects.get(pk=report.pk).status == Report.Status.DONE
    assert report_retry(report_id=report.pk) is False
