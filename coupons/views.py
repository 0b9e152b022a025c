from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from backoffice.ratelimit import client_address
from coupons.exceptions import CouponNotValid
from coupons.forms import CouponApplyForm
from coupons.services import coupon_try
from shop.cart import Cart


@require_POST
def coupon_apply(request):
    form = CouponApplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Please enter a coupon code of up to 40 characters.")
        return redirect("shop:cart_detail")
    if request.session.session_key is None:
        request.session.save()
    try:
        coupon = coupon_try(
            code=form.cleaned_data["code"],
            session_key=request.session.session_key,
            address=client_address(request),
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
