from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.money import to_minor_units
from coupons.exceptions import CouponNotValid
from coupons.models import Coupon, CouponRedemption
from coupons.selectors import NOT_VALID, USED_UP, coupon_check
from coupons.services import coupon_release, coupon_save
from coupons.tests.factories import CouponFactory
from orders.models import Order
from orders.services import order_cancel, order_expire, order_mark_paid, order_place
from orders.tests.factories import customer
from shop.models import Wine
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("typed", ["summer10", "  Summer10 ", "SUMMER10\t", "\nsUmMeR10"])
def test_codes_are_matched_case_insensitively_and_trimmed(typed):
    CouponFactory(code="SUMMER10")
    assert coupon_check(code=typed).code == "SUMMER10"


def _refusal(**fields) -> str:
    CouponFactory(code="TRYME", **fields)
    with pytest.raises(CouponNotValid) as refused:
        coupon_check(code="tryme")
    return str(refused.value)


def test_unknown_expired_and_inactive_codes_get_the_same_message():
    now = timezone.now()
    with pytest.raises(CouponNotValid) as unknown:
        coupon_check(code="NOSUCHCODE")
    assert str(unknown.value) == NOT_VALID
    assert _refusal(valid_to=now - timedelta(minutes=1)) == NOT_VALID
    Coupon.objects.all().delete()
    assert _refusal(active=False) == NOT_VALID


def test_not_yet_valid_and_used_up_codes_say_why():
    assert _refusal(valid_from=timezone.now() + timedelta(days=2)).startswith(
        "This coupon code can be used from "
    )
    Coupon.objects.all().delete()
    assert _refusal(max_uses=3, uses=3) == USED_UP


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_code_is_not_valid(blank):
    with pytest.raises(CouponNotValid):
        coupon_check(code=blank)


def test_order_with_a_coupon_is_discounted_and_takes_one_use():
    wine = WineFactory(price="9.99", stock=10)
    coupon = CouponFactory(code="THIRD", percent_off=33, max_uses=5)

    order = order_place(lines=[(wine.pk, 3)], customer=customer(), coupon_code=" third ")

    assert (order.subtotal, order.discount, order.total) == (
        Decimal("29.97"),
        Decimal("9.89"),
        Decimal("20.08"),
    )
    assert order.coupon_code == "THIRD"
    coupon.refresh_from_db()
    assert coupon.uses == 1
    redemption = CouponRedemption.objects.get()
    assert (redemption.order, redemption.percent_off, redemption.discount) == (
        order,
        33,
        Decimal("9.89"),
    )
    assert "with coupon THIRD" in order.events.get(kind="placed").message


def test_a_used_up_coupon_refuses_the_order_and_writes_nothing():
    wine = WineFactory(stock=10)
    CouponFactory(code="LAST", max_uses=1, uses=1)

    with pytest.raises(CouponNotValid, match="usage limit"):
        order_place(lines=[(wine.pk, 2)], customer=customer(), coupon_code="LAST")

    assert Order.objects.count() == 0
    assert Wine.objects.get(pk=wine.pk).stock == 10
    assert Coupon.objects.get().uses == 1


def test_expected_total_is_the_discounted_total():
    wine = WineFactory(price="20.00", stock=10)
    CouponFactory(code="TEN", percent_off=10)
    order = order_place(
        lines=[(wine.pk, 1)], customer=customer(), coupon_code="TEN", expected_total="18.00"
    )
    assert order.total == Decimal("18.00")


def _order_with(coupon) -> Order:
    wine = WineFactory(price="15.00", stock=10)
    return order_place(lines=[(wine.pk, 2)], customer=customer(), coupon_code=coupon.code)


def test_expiring_an_unpaid_order_gives_the_use_back_exactly_once():
    coupon = CouponFactory(max_uses=2)
    order = _order_with(coupon)
    assert Coupon.objects.get().uses == 1

    order_expire(order_id=order.pk)
    order.refresh_from_db()

    assert Coupon.objects.get().uses == 0
    assert coupon_release(order=order) is False  # a second release gives nothing back
    assert Coupon.objects.get().uses == 0
    assert CouponRedemption.objects.get().released_at is not None
    assert order.events.filter(message__contains="use was given back").count() == 1


def test_canceling_an_unpaid_order_gives_the_use_back():
    coupon = CouponFactory(max_uses=1)
    order = _order_with(coupon)
    order_cancel(order_id=order.pk)
    assert Coupon.objects.get().uses == 0
    # The use can be taken again by the next customer.
    _order_with(coupon)
    assert Coupon.objects.get().uses == 1


def test_canceling_a_paid_order_keeps_the_use():
    coupon = CouponFactory(max_uses=1)
    order = _order_with(coupon)
    order_mark_paid(
        order_id=order.pk,
        payment_intent="pi_1",
        amount_minor=to_minor_units(order.total, "eur"),
        currency="eur",
    )
    order_cancel(order_id=order.pk)
    assert Coupon.objects.get().uses == 1
    assert CouponRedemption.objects.get().released_at is None


def test_saving_a_coupon_read_before_a_use_keeps_the_use():
    coupon = CouponFactory(code="STALE", percent_off=10, max_uses=3)
    edited = Coupon.objects.get(pk=coupon.pk)  # what the merchant's form loaded
    order_place(lines=[(WineFactory(stock=5).pk, 1)], customer=customer(), coupon_code="STALE")
    edited.percent_off = 20
    coupon_save(coupon=edited, fields=["percent_off"])
    coupon.refresh_from_db()
    assert (coupon.percent_off, coupon.uses) == (20, 1)
    assert edited.uses == 1


def test_a_limit_lowered_below_uses_taken_meanwhile_uses_the_coupon_up():
    coupon = CouponFactory(code="LOWER", max_uses=3)
    edited = Coupon.objects.get(pk=coupon.pk)
    for _ in range(2):
        order_place(lines=[(WineFactory(stock=5).pk, 1)], customer=customer(), coupon_code="LOWER")
    edited.max_uses = 1  # the form allowed it: it saw no use
    coupon_save(coupon=edited, fields=["max_uses"])
    coupon.refresh_from_db()
    assert (coupon.max_uses, coupon.uses) == (2, 2)
