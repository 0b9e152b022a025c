"""The shared limiter: address groups, a global scope, retry times, and what each scope does
when the cache holding the counts is away (a Redis cache on a port where nothing listens)."""

import logging

import pytest

from core.ratelimit import (
    EVERYONE,
    Limit,
    Scope,
    address_group,
    count_attempt,
    refusal,
)

GUARDED = Scope("test-guarded", fail_closed=True)
BROWSING = Scope("test-browsing", fail_closed=False)


@pytest.fixture
def cache_away(redis_away):
    redis_away.RATELIMIT_CACHE_AWAY_RETRY_SECONDS = 30
    return redis_away


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
    with caplog.at_level(logging.WARNING, logger="core.ratelimit"):
        refused = refusal([Limit(GUARDED, "203.0.113.9", 5)])
        count_attempt([Limit(GUARDED, "203.0.113.9", 5)], window_seconds=60)  # no exception
    assert refused == (30, True)
    assert "refusing (test-guarded)" in caplog.text


def test_browsing_scopes_let_requests_through_with_a_warning(cache_away, caplog):
    with caplog.at_level(logging.WARNING, logger="core.ratelimit"):
        assert refusal([Limit(BROWSING, "203.0.113.9", 5)]) is None
    assert "Rate limit cache unavailable" in caplog.text
    assert "letting the request through" in caplog.text
