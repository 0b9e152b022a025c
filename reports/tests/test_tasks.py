"""The reports' tasks: scheduled, and run by a real worker process on the run's broker."""

from datetime import date

import pytest

from backoffice.tests.workers import Worker, wait_for
from reports import tasks
from reports.models import CreditNote, Invoice, Report
from reports.services import report_request
from reports.tasks import report_build
from reports.tests.factories import paid_order, succeeded_refund
from reports.tests.test_services import unawaited


def test_the_morning_report_is_scheduled_at_half_past_six():
    from backoffice.schedule import JOBS, Daily

    [job] = [job for job in JOBS if job.task == "reports.tasks.report_daily"]
    assert job.when == Daily(hour=6, minute=30)


@pytest.mark.django_db
def test_the_invoice_task_makes_the_invoice_once_and_answers_its_number(
    django_assert_num_queries,
):
    order = paid_order()
    # The year's first number makes its row (reports.tests.test_services counts the others).
    with django_assert_num_queries(17 + unawaited()):
        first = tasks.invoice_ensure.delay(order.pk).get()
    with django_assert_num_queries(4):  # found under the order's lock, nothing drawn again
        again = tasks.invoice_ensure.delay(order.pk).get()
    assert first == again == Invoice.objects.get(order=order).number


@pytest.mark.django_db
def test_the_credit_note_task_makes_the_credit_note_once_and_answers_its_number(
    django_assert_num_queries,
):
    refund = succeeded_refund(paid_order())
    # The order's invoice is made first, then the credit note, each the year's first.
    with django_assert_num_queries(38 + unawaited(2)):
        first = tasks.credit_note_ensure.delay(refund.pk).get()
    with django_assert_num_queries(10):  # the refund, the invoice and the note found again
        again = tasks.credit_note_ensure.delay(refund.pk).get()
    assert first == again == CreditNote.objects.get(refund=refund).number


def finished(report_id: int, seen: list[str]) -> bool:
    status = Report.objects.get(pk=report_id).status
    if not seen or seen[-1] != status:
        seen.append(status)
    return status in {Report.Status.DONE, Report.Status.FAILED}


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_report_goes_from_queued_to_running_to_done(real_broker, mail_dir):
    paid_order()
    report = report_request(kind="week", start=date.today())
    # Seen queued before any worker runs; the worker may finish before the first look after.
    seen: list[str] = [Report.objects.get(pk=report.pk).status]
    assert seen == [Report.Status.QUEUED]
    worker = Worker(mail_dir)
    try:
        wait_for(lambda: finished(report.pk, seen), timeout=60, what="the report")
    finally:
        worker.stop()
    report.refresh_from_db()
    assert report.status == Report.Status.DONE, (report.error, worker.output())
    assert seen[0] == "queued" and seen[-1] == "done"
    # Running in between: the worker stamped when it started and when it finished.
    assert report.created <= report.started_at <= report.finished_at
    assert report.pdf and report.csv
    with report.pdf.open("rb") as handle:
        assert handle.read().startswith(b"%PDF")
    assert "reports.tasks.report_build" in worker.output()


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_report_that_fails_ends_failed_with_its_reason(real_broker, mail_dir):
    # The month after December 9999 does not exist: building the report fails for good.
    report = Report.objects.create(kind="month", start=date(9999, 12, 1))
    report_build.delay(report.pk)
    worker = Worker(mail_dir)
    try:
        wait_for(lambda: finished(report.pk, []), timeout=60, what="the report to fail")
    finally:
        worker.stop()
    report.refresh_from_db()
    assert report.status == Report.Status.FAILED, worker.output()
    assert report.error.startswith("OverflowError")
    assert report.started_at is not None and report.finished_at is not None
    assert not report.pdf
