"""The shared limiter: address groups, a global scope, retry times, and what each scope does
when the cache holding the counts is away (a Redis cache on a port where nothing listens)."""

import logging

import pytest
from django.test import Client
from django.urls import reverse

from backoffice.ratelimit import (
    EVERYONE,
    Limit,
    Scope,
    address_group,
    count_attempt,
    refusal,
)
from backoffice.settings import cache_config
from backoffice.tests.test_security import log_in, logged_in, staff  # noqa: F401
from coupons.tests.factories import CouponFactory
from orders.models import Order
from orders.tests.factories import CHECKOUT_FIELDS
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db

GUARDED = Scope("test-guarded", fail_closed=True)
BROWSING = Scope("test-browsing", fail_closed=False)


@pytest.fixture
def cache_away(settings):
    """The shared cache is Redis on a port nobody listens on: every call fails to connect."""
    settings.CACHES = {"default": cache_config("AWAY_CACHE_URL", "redis://127.0.0.1:1/0")}
    settings.RATELIMIT_CACHE_AWAY_RETRY_SECONDS = 30
    return settings


@pytest.mark.parametrize(
    ("address", "group"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::ffff", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("not an address", "not an address"),
        ("", ""),
    ],
)
def test_addresses_are_grouped_ipv4_alone_and_ipv6_by_64(address, group):
    assert address_group(address) == group


def test_a_global_scope_counts_everyone_and_says_when_to_retry():
    limits = [Limit(GUARDED, EVERYONE, 3)]
    for _ in range(3):
        assert refusal(limits) is None
        count_attempt(limits, window_seconds=600)
    refused = refusal(limits)
    assert refused is not None and not refused.cache_away
    assert 590 <= refused.seconds <= 600


def test_guarded_scopes_refuse_while_the_cache_is_away(cache_away, caplog):
    with caplog.at_level(logging.WARNING, logger="backoffice.ratelimit"):
        refused = refusal([Limit(GUARDED, "203.0.113.9", 5)])
        count_attempt([Limit(GUARDED, "203.0.113.9", 5)], window_seconds=60)  # no exception
    assert refused == (30, True)
    assert "refusing (test-guarded)" in caplog.text


def test_browsing_scopes_let_requests_through_with_a_warning(cache_away, caplog):
    with caplog.at_level(logging.WARNING, logger="backoffice.ratelimit"):
        assert refusal([Limit(BROWSING, "203.0.113.9", 5)]) is None
    assert "Rate limit cache unavailable" in caplog.text
    assert "letting the request through" in caplog.text


def test_admin_login_is_paused_while_the_cache_is_away(client, staff, cache_away):  # noqa: F811
    response = log_in(client, "merchant", "right-password")
    assert response.status_code == 200
    assert "Signing in is paused for a moment" in response.content.decode()
    assert not logged_in(client)


def test_coupon_codes_are_not_checked_while_the_cache_is_away(client, cache_away):
    CouponFactory(code="REAL")
    response = client.post(reverse("coupons:apply"), {"code": "REAL"})
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
