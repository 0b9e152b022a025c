import contextlib
import re
from functools import wraps

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import DomainError, TooManyRequests
from core.ratelimit import client_group, too_many_requests
from coupons.exceptions import CouponNotValid
from orders.exceptions import InvalidTransition, OrderLinkExpired, OrderLinkInvalid, TooManyOrders
from orders.forms import CheckoutForm, OrderLinkRequestForm
from orders.limits import Placer, placement_count
from orders.link_emails import order_link_request
from orders.links import order_link_number, order_link_path
from orders.models import Order
from orders.selectors import (
    order_for_customer,
    order_milestones,
    order_status_words,
    order_totals,
)
from orders.services import Customer, order_back_to_cart, order_cancel, order_place
from shop.cart import Cart
from shop.delivery.models import DeliveryMethod
from shop.exceptions import DeliveryRefused

PLACED_ORDERS_KEY = "placed_orders"
ORDER_NUMBER = re.compile(r"WS-[A-Z0-9]{4}-[A-Z0-9]{4}")


def _placed_orders(session) -> list[str]:
    """Return the numbers of the orders this session placed (the last ten)."""
    numbers = session.get(PLACED_ORDERS_KEY)
    if not isinstance(numbers, list):
        return []
    return [n for n in numbers if isinstance(n, str)][-10:]


def placed_order(request, number: str) -> Order:
    """Return the order of that number if this visitor's session placed it, else raise 404."""
    if not ORDER_NUMBER.fullmatch(number) or number not in _placed_orders(request.session):
        raise Http404("No such order.")
    order = Order.objects.prefetch_related("items").filter(number=number).first()
    if order is None:
        raise Http404("No such order.")
    return order


def _delivery_choose(cart: Cart, posted) -> None:
    """Keep the delivery chosen at checkout as the cart's, where the shop can deliver it."""
    method, country = posted.get("delivery_method", ""), posted.get("country", "")
    if (method, country) == cart.delivery_choice or method not in DeliveryMethod.values:
        return
    with contextlib.suppress(DeliveryRefused):  # the form says why
        cart.choose_delivery(method=method, country=country)


@require_http_methods(["GET", "POST"])
def checkout(request):
    cart = Cart.for_request(request)
    for problem in cart.sync():
        messages.warning(request, problem)
    if not cart:
        messages.info(request, _("Your cart is empty."))
        return redirect("shop:cart_detail")

    if request.method == "POST":
        _delivery_choose(cart, request.POST)
    form = CheckoutForm(request.POST or None, cart=cart)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # A cart lives in the session, so a visitor with one has a saved session key.
        placer = Placer(
            session_key=request.session.session_key or "",
            address_group=client_group(request),
            session_orders=_placed_orders(request.session),
        )
        try:
            placement_count(placer=placer)
            order = order_place(
                lines=[(line.wine.pk, line.quantity) for line in cart],
                customer=Customer(
                    **{name: data[name] for name in CheckoutForm.text_fields},
                    country=data["country"],
                ),
                delivery_method=data["delivery_method"],
                age_confirmed=data["age_confirmed"],
                expected_total=data["expected_total"],
                coupon_code=cart.coupon_code,
                placer=placer,
                language=translation.get_language() or "",
            )
        except TooManyOrders as refusal:
            return too_many_requests(request, refusal, back_url=reverse("shop:cart_detail"))
        except CouponNotValid as error:
            # Used up or expired since it was applied: the cart shows the full price again.
            code = cart.coupon_code
            cart.remove_coupon()
            messages.error(
                request,
                _("Coupon %(code)s: %(refusal)s It was removed from your cart.")
                % {"code": code, "refusal": error},
            )
            return redirect("shop:cart_detail")
        except DomainError as error:  # any other refusal, of orders or below: a message
            messages.error(request, str(error))
            return redirect("shop:cart_detail")
        cart.clear()
        request.session[PLACED_ORDERS_KEY] = [*_placed_orders(request.session)[-9:], order.number]
        return redirect("payments:process", key=order.number)
    return render(request, "orders/checkout.html", {"cart": cart, "form": form})


@require_GET
def order_placed(request, number):
    order = placed_order(request, number)
    context = {"order": order, "totals": order_totals(order), **order_link_context(order)}
    return render(request, "orders/order_placed.html", context)


def order_of_link(request, key: str) -> Order:
    """Return the order key opens: an order link's token, or the number of an order this
    visitor's session placed; raise OrderLinkInvalid (OrderLinkExpired) for any other key."""
    if ORDER_NUMBER.fullmatch(key):
        try:
            return placed_order(request, key)
        except Http404:
            raise OrderLinkInvalid(_("This link to an order is not valid.")) from None
    order = order_for_customer(number=order_link_number(token=key))
    if order is None:  # signed by the shop, for an order since deleted
        raise OrderLinkInvalid(_("This link to an order is not valid."))
    return order


def link_refused(request, error: OrderLinkInvalid, form=None):
    """Return the page of a link that opens no order, with the form to ask for a new one:
    410 Gone for a genuine link that expired, 404 for any other."""
    expired = isinstance(error, OrderLinkExpired)
    context = {"error": error, "expired": expired, "form": form or OrderLinkRequestForm()}
    status = 410 if expired else 404
    return render(request, "orders/order_link_refused.html", context, status=status)


def order_link_view(view):
    """Call view(request, order, key) with the order key opens, or answer the refusal page."""

    @wraps(view)
    def wrapper(request, key: str):
        try:
            order = order_of_link(request, key)
        except OrderLinkInvalid as error:
            return link_refused(request, error)
        return view(request, order, key)

    return wrapper


def order_actions(order: Order, key: str) -> dict:
    """Return what the customer may still do with the order, for the page's buttons."""
    pending = order.status == Order.Status.PENDING
    return {"key": key, "payable": pending and order.total > 0, "changeable": pending}


@never_cache
@require_GET
@order_link_view
def order_detail(request, order, key):
    context = {
        "order": order,
        "items": list(order.items.all()),
        "totals": order_totals(order),
        "status_words": order_status_words(order),
        "milestones": order_milestones(order=order),
        **order_actions(order, key),
    }
    return render(request, "orders/order_detail.html", context)


def _no_longer_changeable(request, order: Order) -> None:
    """Tell the customer their order moved on (paid, expired…) before they could change it."""
    order.refresh_from_db(fields=["status"])
    messages.error(
        request,
        _("Your order %(number)s is %(status)s: it can no longer be changed or canceled here.")
        % {"number": order.number, "status": order_status_words(order)},
    )


@require_POST
@order_link_view
def order_customer_cancel(request, order, key):
    try:
        order_cancel(order_id=order.pk, reason="canceled by the customer")
    except InvalidTransition:
        _no_longer_changeable(request, order)
    else:
        messages.success(
            request,
            _("Your order %(number)s is canceled; nothing was charged for it.")
            % {"number": order.number},
        )
    return redirect("orders:order_detail", key=key)


@require_POST
@order_link_view
def order_change(request, order, key):
    try:
        problems = order_back_to_cart(order_id=order.pk, cart=Cart.for_request(request))
    except InvalidTransition:
        _no_longer_changeable(request, order)
        return redirect("orders:order_detail", key=key)
    messages.success(
        request,
        _(
            "Your order %(number)s is canceled and its wines are back in your cart: change "
            "what you like, then check out again."
        )
        % {"number": order.number},
    )
    for problem in problems:
        messages.warning(request, problem)
    return redirect("shop:cart_detail")


@never_cache
@require_http_methods(["GET", "POST"])
def order_link_ask(request):
    """Email a fresh link to the order matching an email address and an order number."""
    form = OrderLinkRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            order_link_request(
                email=form.cleaned_data["email"],
                number=form.cleaned_data["number"],
                client_group=client_group(request),
            )
        except TooManyRequests as refusal:
            return too_many_requests(request, refusal, back_url=reverse("orders:order_link_ask"))
        return render(request, "orders/order_link_sent.html")
    return render(request, "orders/order_link_ask.html", {"form": form})


def order_link_context(order: Order) -> dict:
    """Return the link to the order's page and where the order stands, for the pages of its
    payment."""
    return {
        "order_path": order_link_path(number=order.number),
        "status_words": order_status_words(order),
    }
