from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.ratelimit import client_group, too_many_requests
from coupons.exceptions import CouponNotValid, TooManyAttempts
from coupons.forms import CouponApplyForm
from coupons.services import coupon_try
from shop.cart import Cart


def _known_session_key(request) -> str:
    """Return the key of the visitor's session if the session store has it, else "".

    Reading the session loads it, which drops a key the store does not know: a script that
    invents cookies gets no counter of its own. No session is created here, so one without a
    cookie can't restart a counter either; both are counted by address and with everyone.
    """
    request.session.keys()
    return request.session.session_key or ""


@require_POST
def coupon_apply(request):
    form = CouponApplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Please enter a coupon code of up to 40 characters.")
        return redirect("shop:cart_detail")
    try:
        coupon = coupon_try(
            code=form.cleaned_data["code"],
            session_key=_known_session_key(request),
            address=client_group(request),
        )
    except TooManyAttempts as refusal:
        return too_many_requests(
            request,
            message=str(refusal),
            retry_after=refusal.retry_after,
            back_url=reverse("shop:cart_detail"),
        )
    except CouponNotValid as error:
        messages.error(request, str(error))
        return redirect("shop:cart_detail")
    Cart.for_request(request).apply_coupon(coupon.code)
    messages.success(request, f"Coupon {coupon.code} applied: {coupon.percent_off} % off.")
    return redirect("shop:cart_detail")


@require_POST
def coupon_remove(request):
    Cart.for_request(request).remove_coupon()
    messages.info(request, "The coupon was removed.")
    return redirect("shop:cart_detail")
