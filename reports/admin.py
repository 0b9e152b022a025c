import json

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from core.admin_columns import money_column, money_html
from core.admin_search import FoldedSearchMixin
from reports.exceptions import InvalidPeriod
from reports.invoices import InvoiceSnapshot
from reports.models import CreditNote, Invoice, Report
from reports.services import invoice_regenerate, report_period, report_request, report_retry

STATUS_LABELS = {
    Report.Status.QUEUED.label: "info",
    Report.Status.RUNNING.label: "warning",
    Report.Status.DONE.label: "success",
    Report.Status.FAILED.label: "danger",
}


def download_link(url: str, text: str):
    classes = "font-medium whitespace-nowrap text-primary-600 dark:text-primary-500"
    return format_html('<a class="{}" href="{}">{}</a>', classes, url, text)


@admin.register(Invoice)
class InvoiceAdmin(FoldedSearchMixin, ModelAdmin):
    list_display = ["number", "order", "customer", "total", "issued_at", "download"]
    list_select_related = ["order"]
    search_fields = ["number", "order__number", "order__email", "order__last_name"]
    date_hierarchy = "issued_at"
    fields = ["number", "order", "issued_at", "rendered_at", "download", "what_it_shows"]
    readonly_fields = fields
    actions = ["regenerate_selected"]

    def has_add_permission(self, request):
        return False  # an invoice is made when its order is paid

    def has_change_permission(self, request, obj=None):
        # An issued invoice is never edited: its page is read-only. The list's "generate again"
        # action, which only draws its PDF again, needs the change permission.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False  # invoice numbers are gap-free: an invoice is never deleted

    @display(description="customer")
    def customer(self, invoice):
        return InvoiceSnapshot.from_json(invoice.snapshot).customer.name

    @display(description="total")
    def total(self, invoice):
        snapshot = InvoiceSnapshot.from_json(invoice.snapshot)
        return money_html(snapshot.total, symbol=snapshot.currency_symbol)

    @display(description="snapshot")
    def what_it_shows(self, invoice):
        shown = json.dumps(invoice.snapshot, ensure_ascii=False, indent=2)  # names as written
        return format_html('<pre class="text-xs whitespace-pre-wrap">{}</pre>', shown)

    @display(description="PDF")
    def download(self, invoice):
        if not invoice.file:
            return "being made"
        return download_link(reverse("reports:invoice_download", args=[invoice.pk]), "Download")

    @action(
        description="Generate the selected invoices again (same numbers)", permissions=["change"]
    )
    def regenerate_selected(self, request, queryset):
        for order_id in queryset.values_list("order_id", flat=True):
            invoice_regenerate(order_id=order_id, actor=request.user)
        self.message_user(
            request, f"{queryset.count()} invoice(s) generated again.", messages.SUCCESS
        )


@admin.register(CreditNote)
class CreditNoteAdmin(FoldedSearchMixin, ModelAdmin):
    list_display = ["number", "order", "refund_shown", "amount_money", "issued_at", "download"]
    list_select_related = ["order", "refund"]
    search_fields = ["number", "order__number", "order__email", "order__last_name"]
    date_hierarchy = "issued_at"
    fields = [
        "number",
        "order",
        "refund_shown",
        "invoice",
        "amount_money",
        "issued_at",
        "rendered_at",
        "download",
        "what_it_shows",
    ]
    readonly_fields = fields
    amount_money = money_column("amount", "amount refunded")

    def has_add_permission(self, request):
        return False  # a credit note is made when its refund succeeds

    def has_change_permission(self, request, obj=None):
        return False  # an issued credit note is never edited

    def has_delete_permission(self, request, obj=None):
        return False  # credit note numbers are gap-free: a credit note is never deleted

    @display(description="refund")
    def refund_shown(self, credit_note):
        return f"#{credit_note.refund_id}: {credit_note.refund}"

    @display(description="snapshot")
    def what_it_shows(self, credit_note):
        shown = json.dumps(credit_note.snapshot, ensure_ascii=False, indent=2)
        return format_html('<pre class="text-xs whitespace-pre-wrap">{}</pre>', shown)

    @display(description="PDF")
    def download(self, credit_note):
        if not credit_note.file:
            return "being made"
        url = reverse("reports:credit_note_download", args=[credit_note.pk])
        return download_link(url, "Download")


class ReportForm(forms.ModelForm):
    class Meta:
        model = Report
        fields = ["kind", "start"]
        labels = {"start": "Day"}
        help_texts = {
            "start": "Any day of the period: a week starts on Monday, a month on its first day."
        }

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") and cleaned.get("start"):
            try:
                cleaned["start"] = report_period(kind=cleaned["kind"], day=cleaned["start"])
            except InvalidPeriod as error:
                raise forms.ValidationError({"start": str(error)}) from None
        return cleaned


@admin.register(Report)
class ReportAdmin(ModelAdmin):
    form = ReportForm
    list_display = ["__str__", "kind", "start", "status_label", "requested_by", "created", "files"]
    list_filter = ["status", "kind", "scheduled"]
    list_select_related = ["requested_by"]
    date_hierarchy = "start"
    readonly_fields = [
        "status_label",
        "error",
        "requested_by",
        "scheduled",
        "created",
        "started_at",
        "finished_at",
        "emailed_at",
        "files",
    ]
    actions = ["retry_selected"]

    def get_fields(self, request, obj=None):
        return ["kind", "start"] if obj is None else ["kind", "start", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["kind", "start", *self.readonly_fields]

    def has_change_permission(self, request, obj=None):
        return False  # a report is asked for, then made by a worker; never edited

    @display(description="status", ordering="status", label=STATUS_LABELS)
    def status_label(self, report):
        return report.get_status_display()

    @display(description="files")
    def files(self, report):
        if report.status != Report.Status.DONE:
            return report.error or "—"
        return format_html_join(
            " · ",
            "{}",
            (
                (download_link(reverse("reports:report_download", args=[report.pk, ext]), label),)
                for ext, label in (("pdf", "PDF"), ("csv", "CSV"))
            ),
        )

    def save_model(self, request, obj, form, change):
        report = report_request(
            kind=form.cleaned_data["kind"],
            start=form.cleaned_data["start"],
            requested_by=request.user,
        )
        obj.pk, obj.start, obj.created = report.pk, report.start, report.created

    @action(description="Build the selected failed or waiting reports again", permissions=["add"])
    def retry_selected(self, request, queryset):
        queued = sum(report_retry(report_id=pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"{queued} report(s) queued again.", messages.SUCCESS)
