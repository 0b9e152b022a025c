import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from coupons.models import Coupon
from coupons.tests.factories import CouponFactory

pytestmark = pytest.mark.django_db


def test_the_database_refuses_a_use_beyond_the_limit():
    coupon = CouponFactory(max_uses=2, uses=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Coupon.objects.filter(pk=coupon.pk).update(uses=F("uses") + 1)
    assert Coupon.objects.get(pk=coupon.pk).uses == 2


def test_a_coupon_without_limit_takes_any_number_of_uses():
    coupon = CouponFactory(max_uses=None, uses=1_000)
    Coupon.objects.filter(pk=coupon.pk).update(uses=F("uses") + 1)
    assert Coupon.objects.get(pk=coupon.pk).uses == 1_001


@pytest.mark.parametrize(("field", "value"), [("code", "lower10"), ("percent_off", 0)])
def test_the_database_refuses_a_lower_case_code_or_a_discount_out_of_range(field, value):
    coupon = CouponFactory(code="UPPER10")
    with pytest.raises(IntegrityError), transaction.atomic():
        Coupon.objects.filter(pk=coupon.pk).update(**{field: value})
