"""Sessions read through Redis: kept while Redis is away, and what Redis held from before an
outage is not trusted once it is back."""

import pytest

from core.sessions import SessionStore

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis(redis_server, settings):
    settings.CACHE_RETRY_SECONDS = 0  # tried again at once, rather than after a few seconds
    return redis_server


def saved(key: str | None, cart: dict) -> str:
    session = SessionStore(key)
    session["cart"] = cart
    session.save()
    return session.session_key


def test_sessions_are_saved_and_read_while_redis_is_away(redis):
    key = saved(None, {"1": 1})
    redis.stop()

    assert SessionStore(key)["cart"] == {"1": 1}
    saved(key, {"1": 1, "2": 2})
    assert SessionStore(key)["cart"] == {"1": 1, "2": 2}
    assert SessionStore(saved(None, {"3": 3}))["cart"] == {"3": 3}  # a new visitor's too


def test_a_session_saved_while_redis_was_away_is_not_read_from_its_old_copy(
    redis, django_assert_num_queries
):
    key = saved(None, {"1": 1})
    with django_assert_num_queries(0):
        assert SessionStore(key)["cart"] == {"1": 1}
    redis.stop(keep_data=True)  # a Redis restarted from its snapshot: it holds the old cart
    saved(key, {"1": 1, "2": 2})
    redis.start()

    with django_assert_num_queries(1):  # its row, once
        assert SessionStore(key)["cart"] == {"1": 1, "2": 2}
    with django_assert_num_queries(0):
        assert SessionStore(key)["cart"] == {"1": 1, "2": 2}
