"""The order page's refunds: the refunds inline, the list's filter, and the Refund…, Cancel and
refund… and Allocate… pages (wiring only: orders.refunds decides)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from unfold.admin import TabularInline
from unfold.decorators import action, display

from core.admin_columns import money_column
from core.money import money_format
from orders.exceptions import OrderError
from orders.forms import CancelRefundForm, RefundForm, RefundLinesForm
from orders.models import Order, Refund, RefundState
from orders.refunds import REFUNDABLE, order_cancel_refund, refund_allocate, refund_request
from orders.selectors import (
    order_refund_state_filter,
    refund_quote,
    refund_refundable_quantities,
)

REFUND_STATUS_LABELS = {
    Refund.Status.PENDING.label: "warning",
    Refund.Status.SUCCEEDED.label: "success",
    Refund.Status.FAILED.label: "danger",
}


class RefundInline(TabularInline):
    model = Refund
    verbose_name = "refund"
    verbose_name_plural = "refunds"
    hide_title = True
    fields = [
        "created",
        "kind",
        "status_label",
        "amount_money",
        "bottles",
        "reason",
        "created_by",
        "stripe_refund_id",
        "failure_reason",
        "allocation",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    amount_money = money_column("amount", "amount")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("created_by")
            .prefetch_related("lines__item")
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # refunds are written by the refund pages, never edited

    @display(description="status", label=REFUND_STATUS_LABELS)
    def status_label(self, refund):
        return refund.get_status_display()

    @display(description="bottles")
    def bottles(self, refund):
        said = [
            f"{line.quantity} × {line.item.wine_name}" + (" (back on sale)" if line.restock else "")
            for line in refund.lines.all()
        ]
        return format_html_join("", "<div>{}</div>", ((line,) for line in said)) if said else "—"

    @display(description="to do")
    def allocation(self, refund):
        if refund.allocated:
            return "cancels the order" if refund.cancels_order else ""
        url = reverse("admin:orders_order_refund_allocate", args=[refund.order_id, refund.pk])
        return format_html('<a class="text-primary-600" href="{}">Allocate…</a>', url)


class RefundStateFilter(admin.SimpleListFilter):
    title = "refunds"
    parameter_name = "refunds"

    def lookups(self, request, model_admin):
        return [
            (RefundState.PARTIAL, RefundState.PARTIAL.label),
            (RefundState.FULL, RefundState.FULL.label),
        ]

    def queryset(self, request, queryset):
        if self.value() in RefundState.values:
            return order_refund_state_filter(queryset, state=self.value())
        return queryset


class OrderRefundAdminMixin:
    # Refunds. Giving money back needs orders.refund_order, which the Merchants role has: a
    # clerk allowed to change orders (an address, a note) is not thereby allowed to refund.

    def get_urls(self):
        return [
            path(
                "<path:object_id>/refunds/<int:refund_id>/allocate/",
                self.admin_site.admin_view(self.refund_allocate_view),
                name="orders_order_refund_allocate",
            ),
            *super().get_urls(),
        ]

    def _may_refund(self, request) -> bool:
        return request.user.has_perm("orders.refund_order")

    def has_refund_permission(self, request, object_id=None):
        if not self._may_refund(request):
            return False
        return object_id is None or (
            Order.objects.filter(
                pk=object_id, status__in=REFUNDABLE, refunds_committed__lt=F("total")
            ).exists()
        )

    def has_cancel_refund_permission(self, request, object_id=None):
        if not self._may_refund(request):
            return False
        return object_id is None or (
            Order.objects.filter(
                pk=object_id, status=Order.Status.PAID, refunds_committed__lt=F("total")
            ).exists()
        )

    def _refund_page(self, request, order, template: str, title: str, **context):
        context = {
            **self.admin_site.each_context(request),
            "title": f"{title}: order {order.number}",
            "opts": self.opts,
            "order": order,
            "change_url": reverse("admin:orders_order_change", args=[order.pk]),
            **context,
        }
        return TemplateResponse(request, f"admin/orders/order/{template}", context)

    def _lines_form(self, form_class, request, order):
        """Bind the form of the order's lines, each with the bottles it has left to refund."""
        left = refund_refundable_quantities(order_id=order.pk)
        return form_class(request.POST or None, items=order.items.all(), left=left)

    def _refund_done(self, request, order, refund):
        self.message_user(
            request,
            f"Refund of {money_format(refund.amount)} requested: it is sent to Stripe, and the "
            "order's page shows when it succeeds.",
            messages.SUCCESS,
        )
        return redirect("admin:orders_order_change", order.pk)

    @action(description="Refund…", url_path="refund", icon="undo", permissions=["refund"])
    def refund(self, request, object_id):
        order = get_object_or_404(Order, pk=object_id)
        form = self._lines_form(RefundForm, request, order)
        quote = None
        # "Change" on the preview posts the values back to edit them.
        if request.method == "POST" and "edit" not in request.POST and form.is_valid():
            lines, amount = form.lines(), form.cleaned_data["amount"]
            try:
                quote = refund_quote(order_id=order.pk, lines=lines, amount=amount)
                # Confirmed for the amount the merchant was shown, not one moved since.
                confirmed = "confirm" in request.POST
                if confirmed and request.POST.get("quoted") != str(quote[0]):
                    form.add_error(None, "The amount changed: check it and confirm again.")
                elif confirmed:
                    refund = refund_request(
                        order_id=order.pk,
                        lines=lines,
                        amount=amount,
                        reason=form.cleaned_data["reason"],
                        actor=request.user,
                    )
                    return self._refund_done(request, order, refund)
            except OrderError as error:
                form.add_error(None, str(error))
                quote = None
        return self._refund_page(request, order, "refund.html", "Refund", form=form, quote=quote)

    @action(
        description="Cancel and refund…",
        url_path="cancel-refund",
        icon="cancel",
        permissions=["cancel_refund"],
    )
    def cancel_refund(self, request, object_id):
        order = get_object_or_404(Order, pk=object_id)
        form = self._lines_form(CancelRefundForm, request, order)
        if request.method == "POST" and form.is_valid():
            try:
                refund = order_cancel_refund(
                    order_id=order.pk,
                    restock=form.restock(),
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except OrderError as error:
                form.add_error(None, str(error))
            else:
                return self._refund_done(request, order, refund)
        return self._refund_page(
            request, order, "cancel_refund.html", "Cancel and refund", form=form
        )

    def refund_allocate_view(self, request, object_id, refund_id):
        if not self._may_refund(request):
            raise PermissionDenied
        refund = get_object_or_404(
            Refund, pk=refund_id, order_id=object_id, kind=Refund.Kind.EXTERNAL
        )
        order = refund.order
        if refund.allocated:
            self.message_user(request, f"Refund #{refund.pk} is allocated already.", messages.INFO)
            return redirect("admin:orders_order_change", order.pk)
        form = self._lines_form(RefundLinesForm, request, order)
        if request.method == "POST" and form.is_valid():
            try:
                refund_allocate(refund_id=refund.pk, lines=form.lines(), actor=request.user)
            except OrderError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(request, f"Refund #{refund.pk} allocated.", messages.SUCCESS)
                return redirect("admin:orders_order_change", order.pk)
        return self._refund_page(
            request, order, "refund_allocate.html", "Allocate a refund", form=form, refund=refund
        )
