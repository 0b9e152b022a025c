"""Whatever a visitor types as a coupon code: an answer, never a 500, and nothing written but
the cart's coupon when the code is valid."""

import pytest
from django.core.cache import cache
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from coupons.models import Coupon, CouponRedemption
from coupons.tests.factories import CouponFactory
from orders.models import Order
from shop.cart import COUPON_KEY
from shop.models import Wine
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db

examples = hsettings(suppress_health_check=[HealthCheck.function_scoped_fixture])

CODE = "DRILL10"
CODES = st.one_of(
    st.none(),  # the field is missing
    st.text(max_size=60),
    st.binary(max_size=30).map(lambda raw: raw.decode("latin-1")),
    st.sampled_from(
        [
            "",
            " ",
            CODE,
            CODE.lower(),
            f"  {CODE}\t",
            f"{CODE}\x00",
            "x" * 41,
            "9" * 5000,
            "%",
            "' OR 1=1 --",
            "ＤＲＩＬＬ１０",  # full-width letters
        ]
    ),
)
OTHER_FIELDS = st.dictionaries(st.text(max_size=8), st.text(max_size=12), max_size=3)


@pytest.fixture
def cart(client):
    wine = WineFactory(stock=5)
    CouponFactory(code=CODE, max_uses=3)
    session = client.session
    session["cart"] = {str(wine.pk): 2}
    session.save()
    return wine


def written() -> tuple:
    coupon = Coupon.objects.get(code=CODE)
    return (
        Coupon.objects.count(),
        coupon.uses,
        CouponRedemption.objects.count(),
        Order.objects.count(),
        list(Wine.objects.values_list("stock", flat=True)),
    )


@examples
@given(code=CODES, other=OTHER_FIELDS)
def test_any_code_is_answered_and_only_a_valid_one_reaches_the_cart(client, cart, code, other):
    cache.clear()  # past the attempts limit every code gets the same answer
    session = client.session
    session.pop(COUPON_KEY, None)
    session.save()
    before = written()
    data = {**other, **({} if code is None else {"code": code})}

    response = client.post(reverse("coupons:apply"), data)

    assert response.status_code == 302
    assert written() == before
    applied = client.session.get(COUPON_KEY)
    assert applied in (None, CODE)
    if applied:
        assert code.strip().upper() == CODE


@examples
@given(other=OTHER_FIELDS)
def test_removing_a_coupon_with_any_form_leaves_the_cart_without_one(client, cart, other):
    session = client.session
    session[COUPON_KEY] = CODE
    session.save()
    before = written()

    response = client.post(reverse("coupons:remove"), other)

    assert response.status_code == 302
    assert written() == before
    assert COUPON_KEY not in client.session
