from datetime import timedelta

import pytest
from django.utils import timezone

from coupons.exceptions import CouponNotValid
from coupons.models import Coupon
from coupons.selectors import CODE_COLUMNS, NOT_VALID, USED_UP, coupon_batch_code_rows, coupon_check
from coupons.services import coupon_batch_create
from coupons.tests.factories import CouponFactory

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


def test_a_batchs_code_rows_are_its_codes_by_code_with_their_settings():
    batch = coupon_batch_create(name="Fair", count=3, percent_off=15, background=False)
    CouponFactory(code="ELSEWHERE")
    rows = list(coupon_batch_code_rows(batch=batch))
    assert [row[0] for row in rows] == sorted(batch.coupons.values_list("code", flat=True))
    assert len(rows) == 3
    assert all(row[1:2] == (15,) and len(row) == len(CODE_COLUMNS) for row in rows)
