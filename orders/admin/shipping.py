"""Shipping from the admin: the order page's Mark as shipped… (carrier and tracking number) and
Ready for collection… pages, and the list's action (wiring only: orders.services.order_ship
decides)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from unfold.decorators import action

from orders.exceptions import InvalidShipment, InvalidTransition
from orders.forms import ShipmentForm
from orders.models import Order
from orders.services import order_ship
from shop.delivery.models import DeliveryMethod


class OrderShipAdminMixin:
    # Shipping needs orders.change_order, as it always did: the Merchants role has it.

    def get_urls(self):
        return [
            path(
                "<path:object_id>/shipment/",
                self.admin_site.admin_view(self.shipment_view),
                name="orders_order_shipment",
            ),
            *super().get_urls(),
        ]

    def _may_ship(self, request, object_id, *, collect: bool) -> bool:
        if not self.has_change_permission(request):
            return False
        if object_id is None:
            return True
        paid = Order.objects.filter(pk=object_id, status=Order.Status.PAID)
        if collect:
            return paid.filter(delivery_method=DeliveryMethod.COLLECT).exists()
        return paid.exclude(delivery_method=DeliveryMethod.COLLECT).exists()

    def has_ship_permission(self, request, object_id=None):
        return self._may_ship(request, object_id, collect=False)

    def has_collect_ready_permission(self, request, object_id=None):
        return self._may_ship(request, object_id, collect=True)

    # The buttons show on a paid order only; their page is reached by its own URL, so that a
    # second click on an order shipped meanwhile is told so rather than refused.
    @action(
        description="Mark as shipped…", url_path="ship", icon="local_shipping", permissions=["ship"]
    )
    def ship(self, request, object_id):
        return redirect("admin:orders_order_shipment", object_id)

    @action(
        description="Ready for collection…",
        url_path="collect-ready",
        icon="storefront",
        permissions=["collect_ready"],
    )
    def collect_ready(self, request, object_id):
        return redirect("admin:orders_order_shipment", object_id)

    def shipment_view(self, request, object_id):
        if not self.has_change_permission(request):
            raise PermissionDenied
        order = get_object_or_404(Order, pk=object_id)
        collect = order.collected
        form = ShipmentForm(request.POST or None, collect=collect)
        if request.method == "POST" and form.is_valid():
            try:
                order_ship(
                    order_id=order.pk,
                    actor=request.user,
                    carrier="" if collect else form.carrier_name(),
                    tracking_number="" if collect else form.cleaned_data["tracking_number"],
                )
            except InvalidShipment as error:
                form.add_error(None, str(error))
            except InvalidTransition as error:  # shipped by another click, or not paid
                self.message_user(request, str(error), messages.WARNING)
                return redirect("admin:orders_order_change", order.pk)
            else:
                done = "is ready for collection" if collect else "is marked as shipped"
                self.message_user(
                    request,
                    f"Order {order.number} {done}; the customer is emailed.",
                    messages.SUCCESS,
                )
                return redirect("admin:orders_order_change", order.pk)
        elif order.status != Order.Status.PAID:
            self.message_user(
                request,
                f"Order {order.number} is {order.get_status_display().lower()}: only a paid "
                "order is shipped.",
                messages.WARNING,
            )
            return redirect("admin:orders_order_change", order.pk)
        title = "Ready for collection" if collect else "Mark as shipped"
        context = {
            **self.admin_site.each_context(request),
            "title": f"{title}: order {order.number}",
            "opts": self.opts,
            "order": order,
            "collect": collect,
            "form": form,
            "change_url": reverse("admin:orders_order_change", args=[order.pk]),
        }
        return TemplateResponse(request, "admin/orders/order/shipment.html", context)

    @action(description="Mark selected orders as shipped…", permissions=["change"])
    def ship_selected(self, request, queryset):
        # One order: its page, to give the carrier and tracking number. Several: a day's
        # parcels shipped at once, without tracking.
        order_ids = list(queryset.values_list("pk", flat=True))
        if len(order_ids) == 1:
            return redirect("admin:orders_order_shipment", order_ids[0])
        shipped = 0
        for order_id in order_ids:
            try:
                order_ship(order_id=order_id, actor=request.user)
                shipped += 1
            except InvalidTransition as error:
                self.message_user(request, str(error), messages.WARNING)
        if shipped:
            self.message_user(
                request,
                f"{shipped} order(s) marked as shipped (or ready for collection), without "
                "tracking; their customers are emailed. To give a carrier and tracking number, "
                "select one order, or use “Mark as shipped…” on its page.",
                messages.SUCCESS,
            )
