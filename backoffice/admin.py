"""The admin pages the project composes: django-celery-beat's admin, registered again on
unfold's ModelAdmin to match the back office, and the order page with the pieces of the apps
above orders (the Stripe dashboard link, the invoice's link, download and regeneration)."""

import json

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import format_html, format_html_join
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from kombu.exceptions import OperationalError
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from backoffice.schedule import schedule_text
from orders import admin as orders_admin
from orders.models import Order
from payments.stripe_client import dashboard_url
from reports.admin import download_link
from reports.exceptions import NotInvoiceable
from reports.models import Invoice
from reports.services import invoice_regenerate

BEAT_MODELS = [PeriodicTask, IntervalSchedule, CrontabSchedule, SolarSchedule, ClockedSchedule]
admin.site.unregister(BEAT_MODELS)


class TaskSelectWidget(UnfoldAdminSelectWidget, beat_admin.TaskSelectWidget):
    pass


# What the task form says to an operator, instead of the package's notes for developers.
TASK_FIELDS = {
    "regtask": ("Task", "The job to run."),
    "task": ("Other task name", "Only for a task that is not in the list above."),
    "interval": (
        "Every",
        "Set one schedule only: an interval, a crontab, a solar event or a date.",
    ),
    "crontab": ("At (crontab)", ""),
    "clocked": ("Once, at", ""),
    "args": ("Arguments", "A JSON list; most jobs take none: []"),
    "kwargs": ("Keyword arguments", "A JSON object; most jobs take none: {}"),
    "one_off": ("Run once only", ""),
    "start_time": ("Start", "Not before this time; empty: at once."),
    "expires": ("Stop after", ""),
    "expire_seconds": ("Stop after (seconds)", ""),
    "queue": ("Queue", "Empty: the task's own queue."),
    "exchange": ("Exchange", ""),
    "routing_key": ("Routing key", ""),
    "headers": ("Message headers", ""),
    "priority": ("Priority", ""),
    "enabled": ("Enabled", "Off: the job is not run on schedule (Run now still runs it)."),
}


class PeriodicTaskForm(beat_admin.PeriodicTaskForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Declared form fields skip the admin's formfield_overrides, so they get unfold's
        # widgets here; the model fields already have them.
        self.fields["regtask"].widget = TaskSelectWidget()
        self.fields["task"].widget = UnfoldAdminTextInputWidget()
        for name, field in self.fields.items():
            field.label, field.help_text = TASK_FIELDS.get(name, (field.label, ""))
        if "crontab" in self.fields:
            self.fields["crontab"].label_from_instance = lambda crontab: crontab.human_readable
        # The package shows a saved task's name in the free-text field, the list left empty.
        registered = {value for value, _ in self.fields["regtask"].widget.choices}
        if self.instance.task in registered - {""}:
            self.initial["regtask"], self.initial["task"] = self.instance.task, ""


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin, ModelAdmin):
    form = PeriodicTaskForm
    list_display = ["name", "enabled", "schedule", "last_run", "total_run_count"]

    @display(description="schedule")
    def schedule(self, task):
        return schedule_text(task)

    @display(description="last run", ordering="last_run_at")
    def last_run(self, task):
        return localize(timezone.localtime(task.last_run_at)) if task.last_run_at else "never"

    # Viewing the schedule is not enough to change it: each action needs the change permission.
    @action(description="Enable selected tasks", permissions=["change"])
    def enable_tasks(self, request, queryset):
        super().enable_tasks(request, queryset)

    @action(description="Disable selected tasks", permissions=["change"])
    def disable_tasks(self, request, queryset):
        super().disable_tasks(request, queryset)

    @action(description="Toggle activity of selected tasks", permissions=["change"])
    def toggle_tasks(self, request, queryset):
        super().toggle_tasks(request, queryset)

    @action(description="Run now", permissions=["change"])
    def run_tasks(self, request, queryset):
        self.celery_app.loader.import_default_modules()
        tasks = list(queryset.order_by("name"))
        unknown = [task.name for task in tasks if task.task not in self.celery_app.tasks]
        if unknown:
            names = ", ".join(unknown)
            self.message_user(request, f"No such task, nothing queued: {names}.", messages.ERROR)
            return
        try:
            for task in tasks:
                self.celery_app.tasks[task.task].apply_async(
                    args=json.loads(task.args),
                    kwargs=json.loads(task.kwargs),
                    queue=task.queue or None,
                    headers={"periodic_task_name": task.name},
                )
        except OperationalError as error:
            self.message_user(request, f"The task queue is unreachable: {error}", messages.ERROR)
            return
        names = ", ".join(f"“{task.name}”" for task in tasks)
        self.message_user(
            request,
            f"Queued for the workers: {names}. A worker runs it in a moment; Flower shows when it "
            "ran (the Last run column counts the scheduled runs only).",
            messages.SUCCESS,
        )


class PeriodicTaskInline(beat_admin.PeriodicTaskInline, TabularInline):
    pass


@admin.register(IntervalSchedule)
class IntervalScheduleAdmin(beat_admin.IntervalScheduleAdmin, ModelAdmin):
    inlines = [PeriodicTaskInline]


@admin.register(CrontabSchedule)
class CrontabScheduleAdmin(beat_admin.CrontabScheduleAdmin, ModelAdmin):
    inlines = [PeriodicTaskInline]


@admin.register(SolarSchedule)
class SolarScheduleAdmin(beat_admin.SolarScheduleAdmin, ModelAdmin):
    inlines = [PeriodicTaskInline]


@admin.register(ClockedSchedule)
class ClockedScheduleAdmin(beat_admin.ClockedScheduleAdmin, ModelAdmin):
    inlines = [PeriodicTaskInline]


def _inserted(names, *, after: str, new: str) -> list:
    at = names.index(after) + 1
    return [*names[:at], new, *names[at:]]


def _fieldsets(fieldsets) -> list:
    """Return the order page's sections with the Stripe link first under Payment, and an
    Invoice section after it."""
    composed = []
    for title, options in fieldsets:
        if title == "Payment":
            options = {**options, "fields": ["stripe_payment", *options["fields"]]}
        composed.append((title, options))
        if title == "Payment":
            composed.append(("Invoice", {"fields": ["invoice_link", "credit_notes"]}))
    return composed


admin.site.unregister(Order)


@admin.register(Order)
class OrderAdmin(orders_admin.OrderAdmin):
    list_display = _inserted(
        orders_admin.OrderAdmin.list_display, after="total_money", new="invoice_link"
    )
    readonly_fields = [
        *orders_admin.OrderAdmin.readonly_fields,
        "stripe_payment",
        "invoice_link",
        "credit_notes",
    ]
    search_fields = [*orders_admin.OrderAdmin.search_fields, "invoice__number"]
    page_prefetch = [*orders_admin.OrderAdmin.page_prefetch, "credit_notes"]
    fieldsets = _fieldsets(orders_admin.OrderAdmin.fieldsets)
    actions = _inserted(
        orders_admin.OrderAdmin.actions, after="cancel_selected", new="regenerate_invoices"
    )
    actions_detail = [*orders_admin.OrderAdmin.actions_detail, "download_invoice"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice")

    @display(description="Stripe payment")
    def stripe_payment(self, order):
        if not order.payment_intent:
            return "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            dashboard_url(order.payment_intent),
            order.payment_intent,
        )

    @display(description="invoice")
    def invoice_link(self, order):
        invoice = getattr(order, "invoice", None)
        if invoice is None or not invoice.file:
            return "—"
        url = reverse("reports:invoice_download", args=[invoice.pk])
        return download_link(url, f"⤓ {invoice.number}")

    @display(description="credit notes")
    def credit_notes(self, order):
        notes = sorted(order.credit_notes.all(), key=lambda note: note.sequence)
        issued = [note for note in notes if note.file]
        if not issued:
            return "—"
        return format_html_join(
            " · ",
            "{}",
            (
                (download_link(reverse("reports:credit_note_download", args=[note.pk]), note),)
                for note in issued
            ),
        )

    @action(description="Generate the invoices again (same numbers)", permissions=["change"])
    def regenerate_invoices(self, request, queryset):
        done = 0
        for order_id in queryset.values_list("pk", flat=True):
            try:
                invoice_regenerate(order_id=order_id, actor=request.user)
                done += 1
            except NotInvoiceable as error:
                self.message_user(request, str(error), messages.WARNING)
        if done:
            self.message_user(request, f"{done} invoice(s) generated.", messages.SUCCESS)

    @action(
        description="Download invoice",
        icon="download",
        url_path="download-invoice",
        permissions=["download_invoice"],
    )
    def download_invoice(self, request, object_id):
        invoice = Invoice.objects.filter(order_id=object_id).exclude(file="").first()
        if invoice is None:
            self.message_user(request, "This order has no invoice yet.", messages.WARNING)
            return redirect("admin:orders_order_change", object_id)
        return redirect("reports:invoice_download", invoice.pk)

    def has_download_invoice_permission(self, request, object_id=None):
        return request.user.has_perm("reports.view_invoice")
