"""The order list and page: items, timeline, export and canceling unpaid orders."""

import tablib
from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Exists, OuterRef, Subquery, prefetch_related_objects
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from import_export import fields, resources
from import_export.admin import ExportMixin
from import_export.formats.base_formats import XLSX
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.contrib.import_export.forms import ExportForm
from unfold.decorators import action, display

from core.admin_columns import money_column, money_html
from core.admin_paginator import LargeTablePaginator
from core.admin_search import FoldedSearchMixin
from core.spreadsheet import ExcelCSV, csv_response, safe_cell
from orders.admin.refunds import OrderRefundAdminMixin, RefundInline, RefundStateFilter
from orders.admin.shipping import OrderShipAdminMixin
from orders.emails import order_email_retry_failed
from orders.exceptions import InvalidContact, InvalidTransition
from orders.models import Order, OrderEmail, OrderEvent, OrderItem, RefundState
from orders.selectors import (
    EXPORT_HEADER,
    order_export_rows,
)
from orders.services import order_cancel, order_contact_update, order_note_add

# One colour per status, so a list of orders reads at a glance.
STATUS_LABELS = {
    Order.Status.PENDING.label: "warning",
    Order.Status.PAID.label: "success",
    Order.Status.SHIPPED.label: "info",
    Order.Status.REFUNDED.label: "primary",
    Order.Status.CANCELED.label: "danger",
    Order.Status.EXPIRED.label: "default",  # grey: unfold's label for any other variant
}


class OrderItemInline(TabularInline):
    model = OrderItem
    verbose_name_plural = "items"
    fields = ["sku", "wine_name", "vintage", "quantity", "unit_price_money", "line_total_money"]
    readonly_fields = fields
    extra = 0
    unit_price_money = money_column("unit_price", "unit price")
    line_total_money = money_column("line_total", "line total")
    can_delete = False
    show_change_link = False
    hide_title = True

    def has_add_permission(self, request, obj=None):
        return False


class OrderEventInline(TabularInline):
    model = OrderEvent
    verbose_name = "timeline entry"
    verbose_name_plural = "timeline"
    hide_title = True
    fields = ["created", "kind", "message", "status_change", "actor"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request, obj=None):
        return False

    @display(description="status")
    def status_change(self, event):
        if not event.to_status:
            return ""
        to = Order.Status(event.to_status).label
        return f"{Order.Status(event.from_status).label} → {to}" if event.from_status else to


class FailedEmailFilter(admin.SimpleListFilter):
    title = "emails"
    parameter_name = "emails"

    def lookups(self, request, model_admin):
        return [("failed", "Failed, not sent")]

    def queryset(self, request, queryset):
        if self.value() == "failed":
            return queryset.filter(email_failed=True)
        return queryset


# How the order reaches the customer, as placed: shown, never edited.
DELIVERY_FIELDS = [
    "delivery_method",
    "country_name",
    "delivery_zone",
    "vat_rate_percent",
    "minimum_age",
    "age_confirmed_at",
]


class OrderAdminForm(forms.ModelForm):
    note = forms.CharField(
        label="Add a note to the timeline",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )

    class Meta:
        model = Order
        fields = ["first_name", "last_name", "email", "phone", "address", "postal_code", "city"]


def _email_state(email: OrderEmail) -> str:
    when = timezone.localtime
    if email.sent_at:
        return f"sent {when(email.sent_at):%Y-%m-%d %H:%M}"
    if email.failed_at:
        return f"FAILED {when(email.failed_at):%Y-%m-%d %H:%M}, {email.failure_reason}"
    if email.attempts:
        return f"not sent yet, {email.attempts} attempt(s): {email.failure_reason}"
    return "not sent yet"


def _transition(model_admin, request, queryset, service, verb: str):
    done, refused = 0, []
    for order_id in queryset.values_list("pk", flat=True):
        try:
            service(order_id=order_id, actor=request.user)
            done += 1
        except InvalidTransition as error:
            refused.append(str(error))
    if done:
        model_admin.message_user(request, f"{done} order(s) {verb}.", messages.SUCCESS)
    for reason in refused:
        model_admin.message_user(request, reason, messages.WARNING)


class OrderExportResource(resources.ModelResource):
    """Orders with their items, one row per item: the columns of the CSV action."""

    class Meta:
        model = Order
        name = "Orders with their items"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.fields = {name: fields.Field(column_name=name) for name in EXPORT_HEADER}

    def export(self, queryset=None, **kwargs):
        dataset = tablib.Dataset(headers=EXPORT_HEADER)
        for row in order_export_rows(queryset):
            dataset.append([safe_cell(value) for value in row])
        return dataset


class ExportModelAdmin(ExportMixin, admin.ModelAdmin):
    """import-export's export on a ModelAdmin, as its ImportExportModelAdmin does both."""


@admin.register(Order)
class OrderAdmin(
    FoldedSearchMixin, OrderShipAdminMixin, OrderRefundAdminMixin, ModelAdmin, ExportModelAdmin
):
    form = OrderAdminForm
    # The changelist's Export button exports the orders its filters show, with their items.
    resource_classes = [OrderExportResource]
    formats = [ExcelCSV, XLSX]
    export_form_class = ExportForm
    inlines = [OrderItemInline, RefundInline, OrderEventInline]
    list_display = [
        "order_number",
        "created",
        "customer",
        "email",
        "status_label",
        "payment",
        "item_count",
        "total_money",
        "refunded",
        "net",
        "mail",
    ]
    list_filter = [
        "status",
        "delivery_method",
        "country",
        "payment_flagged",
        RefundStateFilter,
        FailedEmailFilter,
        ("created", RangeDateFilter),
    ]
    list_filter_submit = True
    # The back office adds the invoice number (reports stands above orders).
    search_fields = ["number", "email", "first_name", "last_name", "items__wine_name"]
    list_per_page = 50
    # Lists of a million orders: no COUNT(*) of the whole table for "x selected of y", and the
    # list's own count read from the table's estimate beyond a size (the "created" filter above
    # stands for a date hierarchy, whose SELECT DISTINCT of days reads every order).
    show_full_result_count = False
    paginator = LargeTablePaginator
    page_prefetch = ("emails",)  # read once for the order's page (get_object)
    readonly_fields = [
        "order_number",
        "status_label",
        "currency",
        "subtotal_money",
        "coupon_code",
        "discount_money",
        "total_money",
        "delivery_charge_money",
        "amount_paid",
        "refunded",
        "net",
        "created",
        "paid_at",
        "shipped_at",
        "canceled_at",
        "payment",
        "stripe_session_id",
        "payment_flag_reason",
        "email_status",
        *DELIVERY_FIELDS,
    ]
    # The page opens on what the order is: its summary, then (admin/orders/order/change_form.html)
    # the items, refunds and timeline with the note to add to it, then the details.
    fieldsets = [
        ("Order", {"fields": [("order_number", "created"), ("status_label", "payment")]}),
        ("Note", {"fields": ["note"]}),
        (
            "Amounts",
            {
                "fields": [
                    "subtotal_money",
                    "coupon_code",
                    "discount_money",
                    "delivery_charge_money",
                    "total_money",
                    "currency",
                ]
            },
        ),
        (
            "Customer",
            {"fields": [*OrderAdminForm.Meta.fields, "email_status"]},
        ),
        ("Delivery", {"fields": DELIVERY_FIELDS}),
        (
            "Payment",
            {"fields": ["stripe_session_id", "payment_flag_reason"]},
        ),
        ("Paid and refunded", {"fields": ["amount_paid", "refunded", "net"]}),
        ("Dates", {"fields": ["paid_at", "shipped_at", "canceled_at"]}),
    ]
    actions = [
        "ship_selected",
        "cancel_selected",
        "retry_emails",
        "export_csv",
    ]
    actions_submit_line = ["cancel_submit"]
    actions_detail = ["ship", "collect_ready", "refund", "cancel_refund"]

    def get_inlines(self, request, obj):
        # An order without refunds is not shown an empty table of them.
        inlines = super().get_inlines(request, obj)
        if obj is None or not obj.refunds.exists():
            return [inline for inline in inlines if inline is not RefundInline]
        return inlines

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                # Counted for the rows shown: a GROUP BY would join every order to its items.
                item_count=Subquery(
                    OrderItem.objects.filter(order=OuterRef("pk"))
                    .order_by()
                    .values("order")
                    .annotate(count=Count("pk"))
                    .values("count")
                ),
                email_failed=Exists(
                    OrderEmail.objects.filter(order=OuterRef("pk"), failed_at__isnull=False)
                ),
            )
        )

    def get_object(self, request, object_id, from_field=None):
        order = super().get_object(request, object_id, from_field)
        if order is not None:
            # The page draws its fields more than once: the rows behind them are read once.
            prefetch_related_objects([order], *self.page_prefetch)
        return order

    def has_add_permission(self, request):
        return False  # orders come from the checkout

    def has_delete_permission(self, request, obj=None):
        return False  # orders are canceled, never deleted

    def has_export_permission(self, request):
        return request.user.has_perm("orders.view_order")

    subtotal_money = money_column("subtotal", "subtotal")
    discount_money = money_column("discount", "discount", minus=True)
    delivery_charge_money = money_column("delivery_charge", "delivery")
    total_money = money_column("total", "total")

    @display(description="number", ordering="number")
    def order_number(self, order):
        return format_html('<span class="whitespace-nowrap">{}</span>', order.number)

    @display(description="customer", ordering="last_name")
    def customer(self, order):
        return order.customer_name

    @display(description="status", ordering="status", label=STATUS_LABELS)
    def status_label(self, order):
        return order.get_status_display()

    @display(
        description="payment",
        label={
            "needs attention": "danger",
            "paid": "success",
            "awaiting": "warning",
            RefundState.PARTIAL.label.lower(): "warning",
            RefundState.FULL.label.lower(): "info",
        },
    )
    def payment(self, order):
        # The money actually given back tells, whatever the status: a canceled order refunded
        # is not shown as paid.
        if order.payment_flagged:
            return "needs attention"
        if order.refund_state != RefundState.NONE:
            return order.refund_state.label.lower()
        return "paid" if order.paid_at else ("awaiting" if order.status == "pending" else "—")

    @display(description="paid")
    def amount_paid(self, order):
        return money_html(order.amount_paid)

    @display(description="refunded", ordering="refunded_amount")
    def refunded(self, order):
        return money_html(order.refunded_amount) if order.refunded_amount else ""

    @display(description="net")
    def net(self, order):
        return money_html(order.net_paid) if order.paid_at else ""

    @display(description="mail", label={"failed": "danger"})
    def mail(self, order):
        return "failed" if order.email_failed else ""

    @display(description="country")
    def country_name(self, order):
        return order.get_country_display()

    @display(description="VAT rate")
    def vat_rate_percent(self, order):
        return f"{(order.vat_rate * 100).normalize():f} %" if order.vat_rate is not None else ""

    @display(description="emails")
    def email_status(self, order):
        rows = [(email.get_kind_display(), _email_state(email)) for email in order.emails.all()]
        return format_html_join("", "<div>{}: {}</div>", rows) if rows else "—"

    @display(description="items", ordering="item_count")
    def item_count(self, order):
        return order.item_count

    def save_model(self, request, obj, form, change):
        # Only the customer fields the merchant changed are written: the status and amounts
        # belong to the services, which may have moved them while the form was open.
        contact = {name: form.cleaned_data[name] for name in form.changed_data if name != "note"}
        if contact:
            try:
                order_contact_update(order_id=obj.pk, actor=request.user, changes=contact)
            except InvalidContact as error:  # the form refuses these first
                self.message_user(request, str(error), messages.ERROR)
        if form.cleaned_data.get("note"):
            order_note_add(order_id=obj.pk, actor=request.user, message=form.cleaned_data["note"])
        for submit_action in self.get_actions_submit_line(request, obj.pk):
            if submit_action.action_name in request.POST:
                submit_action.method(request, obj)

    @action(description="Cancel selected orders (puts their stock back)", permissions=["change"])
    def cancel_selected(self, request, queryset):
        # A paid order is canceled by refunding it, on its own page.
        paid = list(queryset.filter(status=Order.Status.PAID).values_list("number", flat=True))
        _transition(
            self, request, queryset.exclude(status=Order.Status.PAID), order_cancel, "canceled"
        )
        if paid:
            self.message_user(
                request,
                f"{len(paid)} paid order(s) not canceled ({', '.join(paid)}): a paid order is "
                "canceled and refunded from its page, with “Cancel and refund…”.",
                messages.WARNING,
            )

    @action(description="Send their failed emails again", permissions=["change"])
    def retry_emails(self, request, queryset):
        order_ids = list(queryset.values_list("pk", flat=True))
        queued = order_email_retry_failed(order_ids=order_ids, actor=request.user)
        self.message_user(request, f"{queued} failed email(s) queued again.", messages.SUCCESS)

    @action(description="Export selected orders to CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return csv_response(f"orders-{stamp}.csv", EXPORT_HEADER, order_export_rows(queryset))

    @action(description="Save and cancel the order", permissions=["change"])
    def cancel_submit(self, request, obj):
        _transition(self, request, Order.objects.filter(pk=obj.pk), order_cancel, "canceled")
