"""Invoices, credit notes and sales reports: every write to them goes through here."""

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from core.queue import publish
from orders.models import Refund
from orders.selectors import refund_get
from orders.services import order_document_note, order_lock
from reports.credit_notes import CreditNoteSnapshot, credit_note_pdf, credit_note_snapshot
from reports.documents import LINE_FIELDS
from reports.exceptions import InvalidPeriod, NotCreditable, NotInvoiceable
from reports.invoices import InvoiceSnapshot, invoice_pdf, invoice_snapshot
from reports.models import CreditNote, CreditNoteSequence, Invoice, InvoiceSequence, Report
from reports.selectors import period_start

logger = logging.getLogger(__name__)


def _next_number(year: int, *, series=InvoiceSequence, prefix: str = "") -> tuple[int, str]:
    """Take the year's next number of the series (invoices, or credit notes) under a row lock:
    gap-free, since the caller's transaction creates the document with it or gives it back on
    rollback."""
    prefix = prefix or settings.INVOICE_NUMBER_PREFIX
    quote = connection.ops.quote_name
    # One statement takes the number and locks the year's row until the caller's transaction
    # ends; the year's first number makes the row.
    field = series._meta.get_field
    table = quote(series._meta.db_table)
    last, year_column = quote(field("last").column), quote(field("year").column)
    take = (
        f"UPDATE {table} SET {last} = {last} + 1 "  # noqa: S608 - the model's own names
        f"WHERE {year_column} = %s RETURNING {last}"
    )
    with connection.cursor() as cursor:
        cursor.execute(take, [year])
        if (taken := cursor.fetchone()) is None:
            series.objects.bulk_create([series(year=year)], ignore_conflicts=True)
            cursor.execute(take, [year])
            taken = cursor.fetchone()
    return taken[0], f"{prefix}-{year}-{taken[0]:06d}"


@transaction.atomic
def _invoice_numbered(order_id: int) -> Invoice:
    """Return the order's invoice, numbering it the first time with the snapshot of what it
    shows: the order's lock makes two callers for one order wait for each other (one number
    each), and holds the order as the snapshot reads it."""
    order = order_lock(order_id=order_id)
    existing = Invoice.objects.filter(order=order).first()
    if existing:
        return existing
    if order.paid_at is None:
        raise NotInvoiceable(f"Order {order.number} has not been paid: it has no invoice yet.")
    # Read before the year's counter is locked.
    items = list(order.items.values_list(*LINE_FIELDS, named=True))
    issued_at = timezone.now()
    year = timezone.localdate(issued_at).year
    sequence, number = _next_number(year)
    snapshot = invoice_snapshot(order=order, items=items, number=number, issued_at=issued_at)
    invoice = Invoice.objects.create(
        order=order,
        number=number,
        year=year,
        sequence=sequence,
        issued_at=issued_at,
        snapshot=snapshot.to_json(),
    )
    order_document_note(order_id=order.pk, title="Invoice", number=number)
    return invoice


def _unawaited_commit() -> None:
    """Let the current transaction commit without waiting for PostgreSQL to write it to disk:
    only for storing a PDF. A crash may lose the last PDFs stored, never a number or a snapshot
    (committed before, and awaited); a document whose PDF was lost is drawn again from its
    snapshot by its next ensure."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _render(invoice: Invoice) -> None:
    """Write the invoice's PDF from its snapshot; the caller holds the invoice's lock.

    Only the file and rendered_at are written: an issued invoice is never edited (Invoice).
    """
    old = invoice.file.name if invoice.file else ""
    pdf = invoice_pdf(InvoiceSnapshot.from_json(invoice.snapshot))
    invoice.file.save(invoice.filename, ContentFile(pdf), save=False)
    invoice.rendered_at = timezone.now()
    invoice.save(update_fields=["file", "rendered_at"])
    if old:
        invoice.file.storage.delete(old)


def invoice_ensure(*, order_id: int) -> Invoice:
    """Return the paid order's invoice, numbering and rendering it the first time.

    Idempotent: a second call returns the same invoice, number and file. The number is taken in
    a short transaction of its own, so the year's counter is never locked while a PDF renders.
    """
    invoice = _invoice_numbered(order_id)
    if invoice.file:
        return invoice
    with transaction.atomic():
        _unawaited_commit()
        # Locked, and only its file read: the snapshot in hand is the one stored for good.
        locked = Invoice.objects.select_for_update().values_list("file", flat=True)
        if locked.get(pk=invoice.pk):  # another process rendered it meanwhile
            invoice.refresh_from_db(fields=["file", "rendered_at"])
        else:
            _render(invoice)
    return invoice


def invoice_regenerate(*, order_id: int, actor=None) -> Invoice:
    """Render the order's invoice again from its snapshot (a file lost or damaged): the same
    number, date and text, whatever the order or the settings have become since. An order paid
    but not yet invoiced gets its invoice.

    An issued invoice never changes: a correction (an address, a line) is a credit note.
    """
    invoice = _invoice_numbered(order_id)  # committed first, as in invoice_ensure
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        _render(invoice)
        order_document_note(
            order_id=order_id, title="Invoice", number=invoice.number, actor=actor, regenerated=True
        )
    return invoice


def _refund_succeeded(refund_id: int) -> Refund:
    refund = refund_get(refund_id=refund_id)
    if refund is None or refund.status != Refund.Status.SUCCEEDED:
        state = "missing" if refund is None else refund.get_status_display().lower()
        raise NotCreditable(
            f"Refund #{refund_id} is {state}: only a refund that succeeded has a credit note."
        )
    return refund


@transaction.atomic
def _credit_note_numbered(refund_id: int, order_id: int) -> CreditNote:
    """Return the refund's credit note, numbering it the first time with the snapshot of what
    it shows: the order's lock makes two callers for one refund (or two refunds of one order)
    wait for each other, as for invoices, and the number is taken last, briefly."""
    order = order_lock(order_id=order_id)
    existing = CreditNote.objects.filter(refund_id=refund_id).first()
    if existing:
        return existing
    refund = _refund_succeeded(refund_id)
    invoice = Invoice.objects.get(order=order)
    refund_lines = list(refund.lines.all())  # read before the year's counter is locked
    issued_at = timezone.now()
    year = timezone.localdate(issued_at).year
    sequence, number = _next_number(
        year, series=CreditNoteSequence, prefix=settings.CREDIT_NOTE_NUMBER_PREFIX
    )
    snapshot = credit_note_snapshot(
        refund=refund,
        refund_lines=refund_lines,
        order=order,
        invoice=invoice,
        number=number,
        issued_at=issued_at,
    )
    order_document_note(order_id=order.pk, title="Credit note", number=number)
    return CreditNote.objects.create(
        refund=refund,
        order=order,
        invoice=invoice,
        number=number,
        year=year,
        sequence=sequence,
        amount=refund.amount,
        issued_at=issued_at,
        snapshot=snapshot.to_json(),
    )


def credit_note_ensure(*, refund_id: int) -> CreditNote:
    """Return the succeeded refund's credit note, numbering and rendering it the first time.

    It cites the order's invoice, made first if the order has none yet. Idempotent: a second
    call returns the same credit note, number and file. As for invoices, the number is taken in
    a short transaction of its own and the PDF rendered after it. Raises NotCreditable for a
    refund that has not succeeded.
    """
    refund = _refund_succeeded(refund_id)
    invoice_ensure(order_id=refund.order_id)
    credit_note = _credit_note_numbered(refund_id, refund.order_id)
    if credit_note.file:
        return credit_note
    with transaction.atomic():
        _unawaited_commit()
        # As for invoices: locked, and only its file read.
        locked = CreditNote.objects.select_for_update().values_list("file", flat=True)
        if locked.get(pk=credit_note.pk):  # another process rendered it meanwhile
            credit_note.refresh_from_db(fields=["file", "rendered_at"])
        else:
            _render_credit_note(credit_note)
    return credit_note


def _render_credit_note(credit_note: CreditNote) -> None:
    """Write the credit note's PDF from its snapshot; the caller holds its lock."""
    pdf = credit_note_pdf(CreditNoteSnapshot.from_json(credit_note.snapshot))
    credit_note.file.save(credit_note.filename, ContentFile(pdf), save=False)
    credit_note.rendered_at = timezone.now()
    credit_note.save(update_fields=["file", "rendered_at"])


def _enqueue_report(report_id: int) -> None:
    """Queue the report's task once the transaction commits. With the broker away the report
    stays queued, and "Build again" in the admin queues it once the broker is back."""
    from reports import tasks

    transaction.on_commit(
        lambda: publish(tasks.report_build, report_id, meanwhile="Build again queues it")
    )


def report_period(*, kind: str, day: date) -> date:
    """Return the first day of the period of the given kind that contains day, or raise
    InvalidPeriod when there is no such period to report on."""
    if kind not in Report.Kind.values:
        raise InvalidPeriod(f"Unknown period {kind!r}: choose a day, a week or a month.")
    if not date(2000, 1, 1) <= day <= timezone.localdate():
        raise InvalidPeriod("Choose a day between 2000 and today: later ones have no sales yet.")
    return period_start(kind, day)


@transaction.atomic
def report_request(*, kind: str, start: date, requested_by=None, queue: bool = True) -> Report:
    """Ask for a sales report of the period of the given kind that contains start, queued for
    a worker unless queue is false (the caller then builds it with report_build)."""
    first = report_period(kind=kind, day=start)
    report = Report.objects.create(kind=kind, start=first, requested_by=requested_by)
    if queue:
        _enqueue_report(report.pk)
    return report


@transaction.atomic
def report_retry(*, report_id: int) -> bool:
    """Queue again a report that failed or is still waiting; return whether it was queued.

    A report queued twice is built once: building a report that is done changes nothing.
    """
    waiting = [Report.Status.FAILED, Report.Status.QUEUED]
    updated = Report.objects.filter(pk=report_id, status__in=waiting).update(
        status=Report.Status.QUEUED, error="", started_at=None, finished_at=None
    )
    if updated:
        _enqueue_report(report_id)
    return bool(updated)


def _start(report_id: int) -> Report | None:
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report_id)
        if report.status == Report.Status.DONE:
            return None
        # A report left running by a worker that died is taken over by the redelivered task.
        report.status, report.started_at, report.error = Report.Status.RUNNING, timezone.now(), ""
        report.save(update_fields=["status", "started_at", "error"])
    return report


def report_build(*, report_id: int) -> Report:
    """Produce the report's PDF and CSV; a report already done is left as it is.

    A failure is recorded on the report with its reason (status failed) rather than raised:
    the same data would fail the same way on a retry.
    """
    from reports.sales import sales_csv, sales_pdf
    from reports.selectors import sales_summary

    report = _start(report_id)
    if report is None:
        return Report.objects.get(pk=report_id)
    try:
        summary = sales_summary(start=report.start, end=report.end)
        pdf, csv = sales_pdf(report, summary), sales_csv(summary)
    except Exception as error:  # recorded for the merchant, who sees why in the admin
        logger.exception("Sales report %s failed.", report_id)
        Report.objects.filter(pk=report_id).update(
            status=Report.Status.FAILED,
            error=f"{type(error).__name__}: {error}",
            finished_at=timezone.now(),
        )
        return Report.objects.get(pk=report_id)
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report_id)
        if report.status == Report.Status.DONE:
            return report
        report.pdf.save(report.filename("pdf"), ContentFile(pdf), save=False)
        report.csv.save(report.filename("csv"), ContentFile(csv), save=False)
        report.status, report.finished_at = Report.Status.DONE, timezone.now()
        report.save(update_fields=["pdf", "csv", "status", "finished_at"])
    return report


def report_daily(*, day: date | None = None) -> Report:
    """Build the report of yesterday (or of day) once, and email it to the merchants once."""
    from reports.sales import email_report

    day = day or timezone.localdate() - timedelta(days=1)
    with transaction.atomic():
        report, _ = Report.objects.get_or_create(kind=Report.Kind.DAY, start=day, scheduled=True)
    report = report_build(report_id=report.pk)
    if report.status != Report.Status.DONE:
        return report
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        if report.emailed_at is None:
            email_report(report)
            report.emailed_at = timezone.now()
            report.save(update_fields=["emailed_at"])
    return report
