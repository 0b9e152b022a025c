import os

import pytest
import redis

from backoffice.cache import RedisCache

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_cache():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis server at {REDIS_URL}")
    cache = RedisCache(REDIS_URL, {"KEY_PREFIX": "wine-shop-test"})
    yield cache
    cache.clear()


def test_redis_cache_reuses_one_client_per_pool(redis_cache):
    client = redis_cache._cache.get_client()
    assert redis_cache._cache.get_client() is client
    assert redis_cache._cache.get_client(write=True) is client  # one server: one pool


def test_redis_cache_round_trips_values(redis_cache):
    redis_cache.set("page", ("v1", "<html>"))
    assert redis_cache.get_many(["page", "missing"]) == {"page": ("v1", "<html>")}
