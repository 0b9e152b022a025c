from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from coupons.models import Coupon
from coupons.tests.factories import CouponFactory
from orders.models import Order
from orders.tests.factories import CHECKOUT_FIELDS, france_zone
from shop.models import Wine
from shop.tests.factories import WineFactory
from shop.tests.pages import flash_messages

pytestmark = pytest.mark.django_db

# The checkout's fields for a delivery to Bordeaux.
DELIVERED = {**CHECKOUT_FIELDS, "delivery_method": "delivery"}
# What a header injection or a split CSV row is made of (NUL is refused by every form field).
CONTROLS = ["\r\nBcc:", "\n", "\x1b[31m", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("field", sorted(set(DELIVERED) - {"age_confirmed"}))
@pytest.mark.parametrize("control", CONTROLS)
def test_checkout_refuses_control_characters_in_any_field(client, field, control):
    france_zone()
    wine = WineFactory(stock=5, price=Decimal("12.50"))
    client.post(reverse("shop:cart_add", args=[wine.pk]), {"quantity": 1})
    value = DELIVERED[field]
    posted = {**DELIVERED, field: value[:3] + control + value[3:], "expected_total": "12.50"}

    response = client.post(reverse("orders:checkout"), posted)

    assert response.status_code == 200
    assert not Order.objects.exists()
    form = response.context["form"]
    if field in {"email", "phone", "postal_code", "country", "delivery_method"}:
        assert field in form.errors  # their own format speaks first
    else:
        assert form.has_error(field, "control_characters")
        assert "without line breaks or control characters" in response.content.decode()


def test_checkout_places_the_discounted_order(cart):
    CouponFactory(code="THIRD", percent_off=33)
    cart.post(reverse("shop:coupon_apply"), {"code": "third"})
    page = cart.get(reverse("orders:checkout"))
    assert "Coupon THIRD (33 % off)" in page.content.decode()

    cart.post(reverse("orders:checkout"), {**CHECKOUT_FIELDS, "expected_total": "20.08"})

    order = Order.objects.get()
    assert (order.coupon_code, order.discount, order.total) == (
        "THIRD",
        Decimal("9.89"),
        Decimal("20.08"),
    )
    assert "coupon" not in cart.session  # used: the next cart starts without it


def test_a_coupon_used_up_after_it_was_applied_is_refused_at_checkout(cart):
    coupon = CouponFactory(code="ONCE", max_uses=1)
    cart.post(reverse("shop:coupon_apply"), {"code": "once"})
    Coupon.objects.filter(pk=coupon.pk).update(uses=1)  # another customer took the last use

    response = cart.post(
        reverse("orders:checkout"), {**CHECKOUT_FIELDS, "expected_total": "26.97"}, follow=True
    )

    # The cart finds it used up before any order is tried, and the total it showed is gone.
    assert Order.objects.count() == 0
    assert "Coupon ONCE: This coupon code has reached its usage limit. It was removed." in (
        flash_messages(response)
    )
    assert response.context["cart"].coupon is None


def test_a_coupon_used_up_while_the_order_is_placed_gives_a_message_not_an_error(cart):
    coupon = CouponFactory(code="RACE", max_uses=1)
    cart.post(reverse("shop:coupon_apply"), {"code": "race"})
    page = cart.get(reverse("orders:checkout"))
    assert page.context["cart"].coupon == coupon
    taken = []

    def another_checkout_takes_the_last_use(execute, sql, params, many, context):
        # Just before this order takes its use, after the cart found the coupon usable.
        if sql.startswith('UPDATE "coupons_coupon"') and not taken:
            taken.append(sql)
            Coupon.objects.filter(pk=coupon.pk).update(uses=1)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(another_checkout_takes_the_last_use):
        response = cart.post(
            reverse("orders:checkout"),
            {**CHECKOUT_FIELDS, "expected_total": "26.97"},
            follow=True,
        )

    assert taken, "the order never tried to take the coupon's use"
    assert response.status_code == 200
    assert response.redirect_chain == [(reverse("shop:cart_detail"), 302)]
    assert flash_messages(response) == [
        "Coupon RACE: This coupon code has reached its usage limit. It was removed from your cart."
    ]
    assert Order.objects.count() == 0
    assert Wine.objects.get().stock == 10
    assert response.context["cart"].coupon is None and "coupon" not in cart.session
