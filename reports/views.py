"""Downloads of invoices, credit notes and reports: private files, served only to staff allowed
to see them."""

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404

from reports.models import CreditNote, Invoice, Report

REPORT_FILES = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}


def _serve(file, filename: str, content_type: str) -> FileResponse:
    if not file:
        raise Http404("The file is not ready yet.")
    try:
        handle = file.storage.open(file.name)
    except FileNotFoundError:
        raise Http404("The file is missing.") from None
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)


@staff_member_required
def invoice_download(request, pk: int):
    if not request.user.has_perm("reports.view_invoice"):
        raise PermissionDenied
    invoice = get_object_or_404(Invoice, pk=pk)
    return _serve(invoice.file, invoice.filename, "application/pdf")


@staff_member_required
def credit_note_download(request, pk: int):
    if not request.user.has_perm("reports.view_creditnote"):
        raise PermissionDenied
    credit_note = get_object_or_404(CreditNote, pk=pk)
    return _serve(credit_note.file, credit_note.filename, "application/pdf")


@staff_member_required
def report_download(request, pk: int, extension: str):
    if not request.user.has_perm("reports.view_report"):
        raise PermissionDenied
    if extension not in REPORT_FILES:
        raise Http404("No such file.")
    report = get_object_or_404(Report, pk=pk, status=Report.Status.DONE)
    return _serve(getattr(report, extension), report.filename(extension), REPORT_FILES[extension])
