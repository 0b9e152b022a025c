from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from orders.models import Order, OrderItem
from orders.refunds import RefundLineRequest, refund_fail, refund_request
from orders.tests.factories import OrderFactory
from orders.tests.test_concurrency import run_together
from reports.exceptions import InvalidPeriod, NotCreditable, NotInvoiceable
from reports.models import CreditNote, CreditNoteSequence, Invoice, InvoiceSequence, Report
from reports.services import (
    credit_note_ensure,
    invoice_ensure,
    invoice_regenerate,
    report_build,
    report_daily,
    report_request,
    report_retry,
)
from reports.tests.factories import (
    ACCENTED_WINES,
    DAY,
    at,
    paid_order,
    refunded,
    succeeded_refund,
)
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


def test_regenerating_after_the_order_changes_keeps_the_number_and_the_text():
    order = paid_order(
        [(ACCENTED_WINES[0], Decimal("24.90"), 2)],
        first_name="Zoë",
        address="8 allée des Chênes",
        city="Bordeaux",
    )
    invoice = invoice_ensure(order_id=order.pk)
    old_file, text = invoice.file.name, pdf_text(read_invoice(invoice))
    Order.objects.filter(pk=order.pk).update(
        first_name="Chloé", address="1 place du Marché", postal_code="33330", city="Saint-Émilion"
    )
    OrderItem.objects.filter(order=order).update(wine_name="Autre vin", unit_price="1.00")

    again = invoice_regenerate(order_id=order.pk)

    assert (again.pk, again.number, again.issued_at, again.snapshot) == (
        invoice.pk,
        invoice.number,
        invoice.issued_at,
        invoice.snapshot,
    )
    assert pdf_text(read_invoice(again)) == text
    assert "8 allée des Chênes" in text and "Saint-Émilion" not in text
    assert again.file.name != old_file
    assert not again.file.storage.exists(old_file)
    assert InvoiceSequence.objects.get().last == 1
    assert order.events.filter(message__contains="generated again").count() == 1


def test_regenerating_after_the_settings_change_gives_the_same_text(settings):
    settings.SHOP_LEGAL_NAME = "Caves Lagrézette SARL"
    settings.SHOP_VAT_NUMBER = "FR40123456789"
    order = paid_order(coupon_code="AUTOMNE10", discount=Decimal("5.00"))
    invoice = invoice_ensure(order_id=order.pk)
    text = pdf_text(read_invoice(invoice))
    settings.SHOP_LEGAL_NAME = "Grands Vins Réunis SAS"
    settings.SHOP_ADDRESS = ["1 cours de l'Intendance", "33000 Bordeaux"]
    settings.SHOP_VAT_NUMBER = "FR99999999999"
    settings.SHOP_COMPANY_NUMBER = "RCS Paris 999"
    settings.VAT_RATE = Decimal("0.055")
    settings.SHOP_CURRENCY_SYMBOL = "EUR"
    settings.TIME_ZONE = "Pacific/Kiritimati"  # another day, for the dates printed

    again = invoice_regenerate(order_id=order.pk)

    assert pdf_text(read_invoice(again)) == text
    assert "Caves Lagrézette SARL" in text and "of which VAT 20 %" in text
    assert "€7.50" in text  # 45.00 * 0.2 / 1.2


def test_an_issued_invoice_is_never_edited_only_drawn_again():
    invoice = invoice_ensure(order_id=paid_order().pk)
    snapshot = invoice.snapshot

    invoice.snapshot = {**snapshot, "total": "0.00"}
    with pytest.raises(ValueError, match="only with update_fields"):
        invoice.save()
    with pytest.raises(ValueError, match="never edited"):
        invoice.save(update_fields=["snapshot", "file"])
    with pytest.raises(ValueError, match="never edited"):
        Invoice.objects.filter(pk=invoice.pk).update(number="INV-0", rendered_at=None)
    assert Invoice.objects.filter(pk=invoice.pk).update(rendered_at=timezone.now()) == 1
    invoice_regenerate(order_id=invoice.order_id)

    stored = Invoice.objects.get(pk=invoice.pk)
    assert (stored.snapshot, stored.number) == (snapshot, invoice.number)


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_concurrent_invoices_take_consecutive_numbers(postgres_only):
    orders = [paid_order() for _ in range(8)]
    results = run_together(8, lambda i: invoice_ensure(order_id=orders[i].pk))
    assert all(isinstance(r, Invoice) for r in results), results
    assert sorted(r.sequence for r in results) == list(range(1, 9))
    assert len({r.number for r in results}) == 8
    assert InvoiceSequence.objects.get().last == 8
    for invoice in Invoice.objects.all():
        assert invoice.file
        # Taken under the same lock as the number: each snapshot names its own invoice and order.
        assert invoice.snapshot["number"] == invoice.number
        assert invoice.snapshot["order"]["number"] == invoice.order.number


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


def test_a_refund_gets_one_credit_note_with_one_number_citing_the_invoice():
    order = paid_order()
    invoice = invoice_ensure(order_id=order.pk)
    refund = refunded(order, (0, 1))
    first = credit_note_ensure(refund_id=refund.pk)
    again = credit_note_ensure(refund_id=refund.pk)

    assert again.pk == first.pk and again.file.name == first.file.name
    assert first.number == f"CN-{first.year}-000001"
    assert (first.refund, first.order, first.invoice) == (refund, order, invoice)
    assert first.amount == refund.amount == Decimal("25.00")
    assert first.snapshot["invoice_number"] == invoice.number
    assert first.file.storage.exists(first.file.name) and first.rendered_at
    assert CreditNoteSequence.objects.get().last == 1
    assert InvoiceSequence.objects.get().last == 1  # a series of its own


def test_credit_notes_of_one_order_follow_each_other_without_gaps():
    order = paid_order((("Château Lagrézette Cahors", Decimal("25.00"), 3),))
    numbers = [credit_note_ensure(refund_id=refunded(order, (0, 1)).pk).number for _ in range(3)]
    year = timezone.localdate().year
    assert numbers == [f"CN-{year}-{n:06d}" for n in (1, 2, 3)]
    assert Invoice.objects.count() == 1  # all three cite the one invoice


def test_a_credit_note_is_made_for_an_order_not_invoiced_yet_citing_its_new_invoice():
    order = paid_order()
    credit_note = credit_note_ensure(refund_id=succeeded_refund(order).pk)
    invoice = Invoice.objects.get(order=order)
    assert credit_note.invoice == invoice
    assert credit_note.snapshot["invoice_number"] == invoice.number


def test_a_refund_that_has_not_succeeded_has_no_credit_note_and_takes_no_number():
    order = paid_order((("Château Lagrézette Cahors", Decimal("25.00"), 2),))
    item = order.items.get()
    line = RefundLineRequest(item_id=item.pk, quantity=1)
    pending = refund_request(order_id=order.pk, lines=[line], reason="", actor=None)
    with pytest.raises(NotCreditable, match="pending"):
        credit_note_ensure(refund_id=pending.pk)
    refund_fail(refund_id=pending.pk, reason="card expired")
    with pytest.raises(NotCreditable, match="failed"):
        credit_note_ensure(refund_id=pending.pk)
    assert not CreditNote.objects.exists()
    assert not CreditNoteSequence.objects.filter(last__gt=0).exists()
    assert not Invoice.objects.exists()  # refused before anything was made


def test_an_issued_credit_note_is_never_edited_only_drawn_again():
    credit_note = credit_note_ensure(refund_id=succeeded_refund(paid_order()).pk)
    with pytest.raises(ValueError, match="never edited"):
        CreditNote.objects.filter(pk=credit_note.pk).update(number="CN-0")
    credit_note.amount = Decimal("1.00")
    with pytest.raises(ValueError, match="only with update_fields"):
        credit_note.save()
    with pytest.raises(ValueError, match="amount"):
        credit_note.save(update_fields=["amount"])
    credit_note.save(update_fields=["rendered_at"])  # drawing it again is allowed


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_concurrent_credit_notes_take_consecutive_numbers(postgres_only):
    refunds = [succeeded_refund(paid_order()) for _ in range(8)]
    results = run_together(8, lambda i: credit_note_ensure(refund_id=refunds[i].pk))
    assert all(isinstance(r, CreditNote) for r in results), results
    assert sorted(r.sequence for r in results) == list(range(1, 9))
    assert CreditNoteSequence.objects.get().last == 8
    assert InvoiceSequence.objects.get().last == 8  # each order invoiced once, on the way
    for credit_note in CreditNote.objects.select_related("invoice", "refund"):
        assert credit_note.file
        assert credit_note.snapshot["number"] == credit_note.number
        assert credit_note.snapshot["invoice_number"] == credit_note.invoice.number
        assert credit_note.invoice.order_id == credit_note.refund.order_id


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_one_refund_credited_by_many_at_once_gets_one_number(postgres_only):
    refund = succeeded_refund(paid_order())
    results = run_together(6, lambda i: credit_note_ensure(refund_id=refund.pk))
    assert all(isinstance(r, CreditNote) for r in results), results
    assert {r.number for r in results} == {results[0].number}
    assert CreditNote.objects.count() == 1
    assert CreditNoteSequence.objects.get().last == 1
    from core.models import StoredFile

    assert StoredFile.objects.filter(name__startswith="credit-notes/").count() == 1


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
        "€79.00",
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


def test_the_morning_report_is_written_in_the_back_office_language(settings):
    settings.REPORT_EMAILS = ["accounts@example.com"]
    settings.ADMIN_LANGUAGE = "en"
    paid_order(paid_at=at(DAY, 9))

    with translation.override("fr"):  # what the worker last spoke, for a French customer
        report_daily(day=DAY)

    [message] = mail.outbox
    assert message.subject.startswith("[") and "Sales report" in message.subject
    assert message.body.startswith("Good morning,")
    assert '<html lang="en">' in message.alternatives[0][0]


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


def test_the_morning_report_links_to_itself_in_the_admin(settings):
    settings.REPORT_EMAILS = ["accounts@example.com"]
    settings.SHOP_URL = "https://shop.example.com"
    report = report_daily(day=DAY)

    [message] = mail.outbox
    link = "https://shop.example.com" + reverse("admin:reports_report_change", args=[report.pk])
    assert link in message.body
    [(html, _)] = message.alternatives
    assert f'href="{link}"' in html and "back office" in html


def unawaited(pdfs: int = 1) -> int:
    """Return the queries that tell PostgreSQL not to wait for the disk as pdfs PDFs are stored
    (one SET LOCAL each); SQLite has no such setting."""
    return pdfs if connection.vendor == "postgresql" else 0


@pytest.mark.parametrize("lines", [1, 10])
def test_invoicing_takes_the_same_queries_whatever_the_lines(lines, django_assert_num_queries):
    invoice_ensure(order_id=paid_order().pk)  # the year's numbers have begun
    order = paid_order([("Château Lagrézette Cahors", Decimal("24.90"), 2)] * lines)

    # Numbered in a transaction of its own (the order's lock, its items, the year's number, the
    # invoice, its timeline note), then rendered and stored under the invoice's lock.
    with django_assert_num_queries(15 + unawaited()):
        invoice = invoice_ensure(order_id=order.pk)

    assert pdf_text(read_invoice(invoice)).count("Château Lagrézette Cahors") == lines


@pytest.mark.parametrize("lines", [1, 10])
def test_a_credit_note_takes_the_same_queries_whatever_the_lines(lines, django_assert_num_queries):
    first = paid_order()
    credit_note_ensure(refund_id=succeeded_refund(first).pk)  # the year's numbers have begun
    order = paid_order([("Bodega Carmen Rodríguez Rioja", Decimal("24.90"), 2)] * lines)
    invoice_ensure(order_id=order.pk)
    refund = refunded(order, *((line, 1) for line in range(lines)))

    # The refund read, the invoice made already, then as for invoices: numbered, then rendered.
    with django_assert_num_queries(25 + unawaited()):
        credit_note = credit_note_ensure(refund_id=refund.pk)

    assert pdf_text(read_invoice(credit_note)).count("Bodega Carmen Rodríguez Rioja") == lines
