from decimal import Decimal

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from coupons.models import Coupon
from coupons.tests.factories import CouponFactory
from orders.models import Order
from orders.tests.factories import CHECKOUT_FIELDS
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cart(client):
    wine = WineFactory(price="9.99", stock=10)
    client.post(reverse("shop:cart_add", args=[wine.pk]), {"quantity": 3})
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_applied_coupon_shows_its_discount_in_the_cart_and_the_header(cart):
    CouponFactory(code="THIRD", percent_off=33)

    response = cart.post(reverse("coupons:apply"), {"code": " third "}, follow=True)

    assert "Coupon THIRD applied: 33 % off." in _messages(response)
    page = response.content.decode()
    assert "Coupon THIRD (33 % off)" in page and "−9.89 €" in page
    assert response.context["cart"].total == Decimal("20.08")
    assert page.count("20.08 €") >= 2  # the header's cart total and the cart's total


def test_checkout_places_the_discounted_order(cart):
    CouponFactory(code="THIRD", percent_off=33)
    cart.post(reverse("coupons:apply"), {"code": "third"})
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
    cart.post(reverse("coupons:apply"), {"code": "once"})
    Coupon.objects.filter(pk=coupon.pk).update(uses=1)  # another customer took the last use

    response = cart.post(
        reverse("orders:checkout"), {**CHECKOUT_FIELDS, "expected_total": "26.97"}, follow=True
    )

    assert Order.objects.count() == 0
    assert any("usage limit" in m for m in _messages(response))
    assert response.context["cart"].coupon is None


def test_a_coupon_used_up_while_the_order_is_placed_is_refused_cleanly(cart):
    coupon = CouponFactory(code="RACE", max_uses=1)
    cart.post(reverse("coupons:apply"), {"code": "race"})
    page = cart.get(reverse("orders:checkout"))
    assert page.context["cart"].coupon == coupon
    Coupon.objects.filter(pk=coupon.pk).update(uses=1)

    response = cart.post(
        reverse("orders:checkout"), {**CHECKOUT_FIELDS, "expected_total": "24.27"}, follow=True
    )

    assert response.status_code == 200
    assert Order.objects.count() == 0


@pytest.mark.parametrize("code", ["NOPE", "x" * 41, ""])
def test_bad_codes_get_a_message_and_change_nothing(cart, code):
    response = cart.post(reverse("coupons:apply"), {"code": code}, follow=True)
    assert response.status_code == 200
    assert response.context["cart"].coupon is None
    assert "coupon" not in cart.session
    assert _messages(response)


def test_apply_and_remove_accept_only_post(client):
    assert client.get(reverse("coupons:apply")).status_code == 405
    assert client.get(reverse("coupons:remove")).status_code == 405


def test_removing_the_coupon_restores_the_full_price(cart):
    CouponFactory(code="TEN")
    cart.post(reverse("coupons:apply"), {"code": "TEN"})
    response = cart.post(reverse("coupons:remove"), follow=True)
    assert response.context["cart"].total == Decimal("29.97")


def assert_refused(response) -> None:
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many coupon codes tried" in response.content.decode()


def test_guessing_is_cut_off_per_session(cart, settings):
    settings.COUPON_ATTEMPTS_PER_SESSION = 3
    CouponFactory(code="REAL")
    for guess in ["AAAA", "BBBB", "CCCC"]:
        cart.post(reverse("coupons:apply"), {"code": guess})

    assert_refused(cart.post(reverse("coupons:apply"), {"code": "REAL"}))
    assert "coupon" not in cart.session


def test_guessing_is_cut_off_per_address_across_sessions(client, settings, django_user_model):
    settings.COUPON_ATTEMPTS_PER_ADDRESS = 4
    CouponFactory(code="REAL")
    for guess in range(4):
        client.cookies.clear()  # a fresh session each time
        client.post(reverse("coupons:apply"), {"code": f"GUESS{guess}"})
    client.cookies.clear()

    assert_refused(client.post(reverse("coupons:apply"), {"code": "REAL"}))


def test_the_client_address_behind_a_proxy_counts(cart, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    settings.COUPON_ATTEMPTS_PER_ADDRESS = 2
    settings.COUPON_ATTEMPTS_PER_SESSION = 100
    CouponFactory(code="REAL")
    for guess in ["A1", "A2"]:
        cart.post(reverse("coupons:apply"), {"code": guess}, HTTP_X_FORWARDED_FOR="203.0.113.9")
    other = cart.post(
        reverse("coupons:apply"), {"code": "REAL"}, HTTP_X_FORWARDED_FOR="198.51.100.7"
    )
    assert other.status_code == 302
    assert "coupon" in cart.session  # another client behind the same proxy is not blocked


def test_guessing_from_many_addresses_trips_the_global_breaker(client, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    settings.COUPON_FAILURES_GLOBAL = 5
    CouponFactory(code="REAL")
    for n in range(5):
        client.cookies.clear()
        client.post(reverse("coupons:apply"), {"code": f"G{n}"}, HTTP_X_FORWARDED_FOR=f"10.0.{n}.1")

    # A fresh address with a good code: no code is checked for anyone until the window ends.
    response = client.post(
        reverse("coupons:apply"), {"code": "REAL"}, HTTP_X_FORWARDED_FOR="198.51.100.7"
    )
    assert_refused(response)


def test_addresses_of_one_ipv6_64_share_their_counter(client, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    settings.COUPON_ATTEMPTS_PER_ADDRESS = 3
    CouponFactory(code="REAL")
    for n in range(3):
        client.cookies.clear()
        address = f"2001:db8:1:2::{n + 1:x}"  # one subscriber's /64, a new address each time
        client.post(reverse("coupons:apply"), {"code": f"G{n}"}, HTTP_X_FORWARDED_FOR=address)

    same_64 = client.post(
        reverse("coupons:apply"), {"code": "REAL"}, HTTP_X_FORWARDED_FOR="2001:db8:1:2:ffff::9"
    )
    assert_refused(same_64)
    other_64 = client.post(
        reverse("coupons:apply"), {"code": "REAL"}, HTTP_X_FORWARDED_FOR="2001:db8:1:3::1"
    )
    assert other_64.status_code == 302


def test_tries_without_a_cookie_create_no_session_and_are_counted_by_address(client, settings):
    settings.COUPON_ATTEMPTS_PER_ADDRESS = 3
    settings.COUPON_ATTEMPTS_PER_SESSION = 100
    CouponFactory(code="REAL")
    for n in range(3):
        client.cookies.clear()
        response = client.post(reverse("coupons:apply"), {"code": f"G{n}"})
        assert response.status_code == 302
        assert "sessionid" not in response.cookies
    client.cookies.clear()
    # An invented session cookie gives no counter of its own either.
    client.cookies["sessionid"] = "x" * 32

    response = client.post(reverse("coupons:apply"), {"code": "REAL"})
    assert_refused(response)
    assert "sessionid" not in response.cookies or not response.cookies["sessionid"].value
    assert not Session.objects.exists()
