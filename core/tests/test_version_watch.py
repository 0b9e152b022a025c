"""Copies of the cache's versions kept while Redis tells the process of every change to them,
on a Redis server of the test's own; "another process" writes through a connection of its own."""

import pickle

import pytest
from django.core.cache import cache

from core.cache import CacheVersion, version_watch
from core.tests.waiting import until
from core.version_watch import VersionWatch

# Made at import, before any watch: every watch follows them.
THINGS = CacheVersion("watched-things:version")


@pytest.fixture
def watched(settle_version_watch):
    """The watch, with THINGS stored, read and kept."""
    THINGS.current()
    watch = settle_version_watch()
    THINGS.current()
    assert watch.get(THINGS.key) is not None
    return watch


def gets(server) -> int:
    return server.client().info("commandstats").get("cmdstat_get", {}).get("calls", 0)


def stored_elsewhere(server, value: str) -> None:
    """Store THINGS's version as another process's cache does."""
    server.client().set(cache.make_key(THINGS.key), pickle.dumps(value))


def test_a_version_is_read_from_redis_once_while_the_watch_stands(redis_server, watched):
    before = gets(redis_server)
    version = THINGS.current()
    assert [THINGS.current() for _ in range(20)] == [version] * 20
    assert gets(redis_server) == before


def test_another_process_replacing_a_version_is_seen_within_a_moment(redis_server, watched):
    old = THINGS.current()
    stored_elsewhere(redis_server, "changed-elsewhere")
    until(lambda: THINGS.current() != old, seconds=1)
    assert THINGS.current() == "changed-elsewhere"


def test_this_processs_own_change_is_seen_at_once(watched):
    old = THINGS.current()
    THINGS.replace()
    new = THINGS.current()
    assert new != old
    assert cache.get(THINGS.key) == new  # what every process reads


def test_a_flushed_cache_forgets_every_copy(redis_server, watched):
    old = THINGS.current()
    redis_server.client().flushdb()
    until(lambda: THINGS.current() != old, seconds=1)


def test_a_version_read_while_another_changes_is_not_kept(watched):
    seen = watched.seen()
    watched.forget(THINGS.key)  # Redis's message about a change, between the read and the keep
    watched.keep(THINGS.key, "read-before-the-change", seen)
    assert watched.get(THINGS.key) is None


def test_a_version_made_after_the_watch_is_read_from_redis_every_time(redis_server, watched):
    late = CacheVersion("made-late:version")
    version = late.current()
    before = gets(redis_server)
    assert late.current() == version
    assert gets(redis_server) == before + 1


def test_without_its_connection_the_watch_keeps_nothing_and_comes_back(redis_server, watched):
    old = THINGS.current()
    redis_server.client().client_kill_filter(_type="pubsub")
    until(lambda: not watched.live)
    # Changed while nobody would have told this process: read from Redis, not from the copy.
    stored_elsewhere(redis_server, "changed-while-deaf")
    assert THINGS.current() == "changed-while-deaf" != old
    until(lambda: watched.live)
    until(lambda: THINGS.current() and watched.get(THINGS.key))
    before = gets(redis_server)
    assert THINGS.current() == "changed-while-deaf"
    assert gets(redis_server) == before


def test_a_watch_that_cannot_subscribe_keeps_nothing(redis_server):
    redis_server.stop()
    watch = VersionWatch(redis_server.url, {cache.make_key(THINGS.key): THINGS.key})
    try:
        assert watch.get(THINGS.key) is None  # starts it
        watch.keep(THINGS.key, "never-told-of-changes", watch.seen())
        assert watch.get(THINGS.key) is None
    finally:
        watch.close()


def test_settings_can_turn_the_watch_off(redis_server, settings):
    settings.CACHE_VERSION_WATCH = False
    assert version_watch() is None
    version = THINGS.current()
    before = gets(redis_server)
    assert THINGS.current() == version
    assert gets(redis_server) == before + 1


def test_a_key_that_begins_another_watches_both(redis_server):
    keys = {":1:stock:version": "stock:version", ":1:stock:version:eu": "stock:version:eu"}
    watch = VersionWatch(redis_server.url, keys)
    try:
        watch.get("stock:version")  # starts it
        until(lambda: watch.live)  # Redis took the prefixes
        watch.keep("stock:version:eu", "before", watch.seen())
        assert watch.get("stock:version:eu") == "before"
        redis_server.client().set(":1:stock:version:eu", b"after")
        until(lambda: watch.get("stock:version:eu") is None, seconds=1)
    finally:
        watch.close()
