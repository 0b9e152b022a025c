"""The pages the shared limiter guards (core/ratelimit.py), while the cache holding the counts
is away (a Redis cache on a port where nothing listens): the admin login, the coupon form and
the checkout."""

import pytest
from django.test import Client
from django.urls import reverse

from backoffice.settings import cache_config
from backoffice.tests.test_security import log_in, logged_in, staff  # noqa: F401
from coupons.tests.factories import CouponFactory
from orders.models import Order
from orders.tests.factories import CHECKOUT_FIELDS
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache_away(settings):
    """The shared cache is Redis on a port nobody listens on: every call fails to connect."""
    settings.CACHES = {"default": cache_config("AWAY_CACHE_URL", "redis://127.0.0.1:1/0")}
    settings.RATELIMIT_CACHE_AWAY_RETRY_SECONDS = 30
    return settings


def test_admin_login_is_paused_while_the_cache_is_away(client, staff, cache_away):  # noqa: F811
    response = log_in(client, "merchant", "right-password")
    assert response.status_code == 200
    assert "Signing in is paused for a moment" in response.content.decode()
    assert not logged_in(client)


def test_coupon_codes_are_not_checked_while_the_cache_is_away(client, cache_away):
    CouponFactory(code="REAL")
    response = client.post(reverse("shop:coupon_apply"), {"code": "REAL"})
    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    assert "try again shortly" in response.content.decode()


def test_checkout_goes_on_while_the_cache_is_away_within_the_unpaid_caps(cache_away):
    cache_away.ORDER_OPEN_PER_EMAIL = 1
    wine = WineFactory(price="12.00", stock=5)
    responses = []
    for _ in range(2):  # two visitors, one email
        client = Client()
        client.post(reverse("shop:cart_add", args=[wine.pk]), {"quantity": 1})
        responses.append(
            client.post(reverse("orders:checkout"), {**CHECKOUT_FIELDS, "expected_total": "12.00"})
        )
    # The shop keeps selling without its counters; the caps kept in the database still hold.
    assert responses[0].status_code == 302
    assert Order.objects.count() == 1
    assert responses[1].status_code == 429
