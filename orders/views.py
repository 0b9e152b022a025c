import contextlib
import re

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET, require_http_methods

from core.exceptions import DomainError
from core.ratelimit import client_group, too_many_requests
from coupons.exceptions import CouponNotValid
from orders.exceptions import TooManyOrders
from orders.forms import CheckoutForm
from orders.limits import Placer, placement_count
from orders.models import Order
from orders.services import Customer, order_place
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
        messages.info(request, "Your cart is empty.")
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
            messages.error(request, f"Coupon {code}: {error} It was removed from your cart.")
            return redirect("shop:cart_detail")
        except DomainError as error:  # any other refusal, of orders or below: a message
            messages.error(request, str(error))
            return redirect("shop:cart_detail")
        cart.clear()
        request.session[PLACED_ORDERS_KEY] = [*_placed_orders(request.session)[-9:], order.number]
        return redirect("payments:process", number=order.number)
    return render(request, "orders/checkout.html", {"cart": cart, "form": form})


@require_GET
def order_placed(request, number):
    return render(request, "orders/order_placed.html", {"order": placed_order(request, number)})
