import os

import pytest
import redis
from django.core.cache import cache

from core.cache import CacheVersion, RedisCache, cache_away, tolerant_cache

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_cache():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis server at {REDIS_URL}")
    # Keys of this process's own: make test's other processes may use the database meanwhile.
    prefix = f"wine-shop-test-{os.getpid()}"
    cache = RedisCache(REDIS_URL, {"KEY_PREFIX": prefix})
    yield cache
    client = cache._cache.get_client(write=True)
    if keys := client.keys(f"{prefix}:*"):
        client.delete(*keys)


def test_redis_cache_reuses_one_client_per_pool(redis_cache):
    client = redis_cache._cache.get_client()
    assert redis_cache._cache.get_client() is client
    assert redis_cache._cache.get_client(write=True) is client  # one server: one pool


def test_redis_cache_round_trips_values(redis_cache):
    redis_cache.set("page", ("v1", "<html>"))
    assert redis_cache.get_many(["page", "missing"]) == {"page": ("v1", "<html>")}


# --- While the cache is away -----------------------------------------------------------------


@pytest.mark.usefixtures("redis_away")
def test_tolerant_cache_answers_as_an_empty_cache_while_redis_is_away(settings, caplog):
    settings.CACHE_RETRY_SECONDS = 0  # every call tries Redis again
    assert tolerant_cache.get("page", "default") == "default"
    assert tolerant_cache.get_many(["page", "version"]) == {}
    assert tolerant_cache.set("page", "html") is False
    assert tolerant_cache.add("page", "html") is False
    assert tolerant_cache.delete("page") is False
    assert cache_away() is False  # with no retry interval
    # One warning for the whole outage, without a traceback, however many calls failed.
    warnings = [r for r in caplog.records if r.name == "core.cache"]
    assert len(warnings) == 1
    assert "The shared cache is unreachable (ConnectionError" in warnings[0].getMessage()
    assert warnings[0].exc_info is None


def test_tolerant_cache_leaves_a_failed_cache_alone_for_the_retry_interval(redis_server):
    assert tolerant_cache.set("page", "html") is True
    redis_server.stop()
    assert tolerant_cache.get("page") is None
    assert cache_away()
    redis_server.start()
    # Back, but not tried again before CACHE_RETRY_SECONDS have passed.
    assert tolerant_cache.set("page", "html") is False
    assert cache.get("page") is None


def test_tolerant_cache_lets_other_errors_through():
    # A bug is not an outage: it must show.
    with pytest.raises(AttributeError, match="pickle"):
        tolerant_cache.set("page", lambda: "a local function can't be pickled")


def test_a_cache_version_is_replaced_once_the_cache_answers_after_an_outage(redis_server, settings):
    settings.CACHE_RETRY_SECONDS = 0  # tried again at once
    version = CacheVersion("things:version")
    before = version.current()
    assert version.current() == before
    redis_server.stop()
    # Away: changes made now can't replace it, and the cache may come back with the old one.
    assert version.replace() is False
    redis_server.start()
    cache.set("things:version", before, timeout=None)  # a cache that kept its data
    after = version.current()
    assert after != before
    assert version.current() == after  # replaced once per outage
