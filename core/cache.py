"""The Redis cache backend, with clients built once per process instead of once per call, and
the shop's way of using the shared cache so that it can go away without taking pages with it."""

import logging
import os
import threading
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.db import transaction
from redis import RedisError

from core import file_watch
from core.file_watch import FileVersionWatch
from core.version_watch import VersionWatch

logger = logging.getLogger(__name__)


class RedisCacheClient(redis.RedisCacheClient):
    # Django builds a new redis.Redis for every cache call, which costs more than the round trip
    # of a small GET. A client only borrows connections from its pool, so one can serve all the
    # threads of a process.
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        if index not in self._clients:
            pool = self._get_connection_pool(write)
            self._clients[index] = self._client(connection_pool=pool)
        return self._clients[index]


class RedisCache(redis.RedisCache):
    """Django's Redis cache, whose writes from this process reach its copies of the versions
    (core.version_watch) at once: Redis's message about them comes a moment later."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        finally:
            _forget(key)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        finally:
            _forget(key)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        finally:
            for key in data:
                _forget(key)

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        finally:
            _forget(key)

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version)
        finally:
            for key in keys:
                _forget(key)

    def clear(self):
        try:
            return super().clear()
        finally:
            _forget(None)


def _forget(key: str | None) -> None:
    if (watch := version_watch()) is not None:
        watch.forget(key)


_version_keys: set[str] = set()  # of every CacheVersion
_watches: dict[str, VersionWatch | FileVersionWatch] = {}
_watches_lock = threading.Lock()
FILE_CACHE = "django.core.cache.backends.filebased.FileBasedCache"


def version_watch() -> VersionWatch | FileVersionWatch | None:
    """Return this process's copies of the versions in the shared cache, or None where it has
    none: a cache other than one Redis server or a folder that Linux can watch, or
    CACHE_VERSION_WATCH off."""
    config = settings.CACHES["default"]
    location = config.get("LOCATION")
    if not settings.CACHE_VERSION_WATCH or not isinstance(location, str):
        return None
    if config["BACKEND"] == "core.cache.RedisCache":
        if "," in location:
            return None  # several servers: reads go to replicas that the watch does not hear
    elif config["BACKEND"] != FILE_CACHE or not file_watch.available():
        return None
    if (watch := _watches.get(location)) is None:
        with _watches_lock:
            if (watch := _watches.get(location)) is None:
                watch = _watches[location] = _watch(config["BACKEND"], location)
    return watch


def _watch(backend: str, location: str) -> VersionWatch | FileVersionWatch:
    if backend == FILE_CACHE:
        # The files' names as the cache makes them (an md5 of the key) in its folder.
        files = {os.path.basename(cache._key_to_file(key)): key for key in _version_keys}
        return FileVersionWatch(cache._dir, files)
    return VersionWatch(location, {cache.make_key(key): key for key in _version_keys})


# --- When the shared cache is away -----------------------------------------------------------
# Everything the shop keeps in the cache can be computed again, so a Redis restart or outage
# must cost pages their speed, never their answer. A process that finds the cache away leaves
# it alone for CACHE_RETRY_SECONDS: a dead Redis then costs each process one connection timeout
# per interval instead of one per cache call, and the log one warning per WARNING_SECONDS
# instead of a traceback per request.

WARNING_SECONDS = 60
# What a cache that can't be reached raises: redis-py's errors (ConnectionError, TimeoutError)
# and the file cache's OSError.
CACHE_ERRORS = (RedisError, OSError)


class _Outage:
    def __init__(self):
        self.lock = threading.Lock()
        self.away_until = 0.0  # time.monotonic() before which the cache is not tried
        self.warned_at = -WARNING_SECONDS
        self.count = 0  # times this process found the cache away after it had answered
        self.away = False


_outages: dict[str, _Outage] = {}
_outages_lock = threading.Lock()


def _current() -> _Outage:
    """Return the outage state of the cache the settings name (one per server)."""
    location = str(settings.CACHES["default"].get("LOCATION", ""))
    if (outage := _outages.get(location)) is None:
        with _outages_lock:
            outage = _outages.setdefault(location, _Outage())
    return outage


def cache_failed(error: Exception) -> None:
    """Record that the shared cache could not be reached, and warn at most once a minute."""
    outage = _current()
    now = time.monotonic()
    with outage.lock:
        outage.away_until = now + settings.CACHE_RETRY_SECONDS
        if not outage.away:
            outage.away = True
            outage.count += 1
        warn = now - outage.warned_at >= WARNING_SECONDS
        if warn:
            outage.warned_at = now
    if warn:
        logger.warning(
            "The shared cache is unreachable (%s: %s); pages are served without it, and it is "
            "tried again every %g s.",
            type(error).__name__,
            error,
            settings.CACHE_RETRY_SECONDS,
        )


def cache_away() -> bool:
    """Return whether this process found the shared cache away within CACHE_RETRY_SECONDS."""
    return time.monotonic() < _current().away_until


def cache_outages() -> int:
    """Return how many times this process has found the shared cache away after it answered."""
    return _current().count


def _attempt(call, fallback):
    outage = _current()
    if time.monotonic() < outage.away_until:
        return fallback
    try:
        result = call()
    except CACHE_ERRORS as error:
        cache_failed(error)
        return fallback
    if outage.away:
        with outage.lock:
            back, outage.away = outage.away, False
        if back:
            logger.warning("The shared cache answers again.")
    return result


class TolerantCache:
    """The default cache, answering as an empty cache that stores nothing while it is away.

    For data the shop can compute again (rendered pages, progress figures, health answers).
    Code whose policy differs when the cache is away (a limiter that must refuse) catches
    CACHE_ERRORS itself and reports them with cache_failed().
    """

    def get(self, key: str, default=None):
        return _attempt(lambda: cache.get(key, default), default)

    def get_many(self, keys) -> dict:
        return _attempt(lambda: cache.get_many(keys), {})

    def set(self, key: str, value, timeout=DEFAULT_TIMEOUT) -> bool:
        """Store the value; return False when the cache is away."""
        return _attempt(lambda: cache.set(key, value, timeout) or True, False)

    def add(self, key: str, value, timeout=DEFAULT_TIMEOUT) -> bool:
        return _attempt(lambda: cache.add(key, value, timeout), False)

    def delete(self, key: str) -> bool:
        return _attempt(lambda: cache.delete(key), False)


tolerant_cache = TolerantCache()


class CacheVersion:
    """A token under which the shop caches what it computes from some data: replacing it once a
    change commits retires everything cached under the old one, in every process at once.

    Changes made while the cache was away could not replace it, and a cache that comes back may
    still hold what was computed before them: so a process that saw the cache go away replaces
    the token once the cache answers again.
    """

    def __init__(self, key: str):
        self.key = key
        self._replaced_after = 0  # the outages of the cache this process replaced it after
        _version_keys.add(key)

    def current(self, found: str | None = None) -> str:
        """Return the token (`found`: as just read with other keys), replacing it first when this
        process saw the cache away; what was found before that replacement is stale.

        Where Redis (core.version_watch) or Linux (core.file_watch) tells this process of every
        change to it, the token is read from the cache once, not on every call.
        """
        outages = cache_outages()
        if outages != self._replaced_after and self.replace():
            self._replaced_after = outages
            found = None
        if found:
            return found
        watch = version_watch()
        if watch is not None and not cache_away() and (version := watch.get(self.key)):
            return version
        seen = watch.seen() if watch is not None else 0
        version = tolerant_cache.get(self.key)
        if version is None:
            version = uuid.uuid4().hex
            # add() so that two processes starting together agree on one token.
            if not tolerant_cache.add(self.key, version, timeout=None):
                version = tolerant_cache.get(self.key, version)
        elif watch is not None:
            watch.keep(self.key, version, seen)
        return version

    def read(self, key: str) -> tuple[str, object]:
        """Return the current token and what `store` left under `key` for it, in one round trip:
        None when nothing is there, or only something stored under an older token."""
        found = tolerant_cache.get_many([self.key, key])
        version = self.current(found.get(self.key))
        entry = found.get(key)
        if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == version:
            return version, entry[1]
        return version, None

    def store(self, key: str, version: str, value, timeout=DEFAULT_TIMEOUT) -> bool:
        """Keep `value` under `key` for the token `version`; return False when the cache is away."""
        return tolerant_cache.set(key, (version, value), timeout)

    def replace(self) -> bool:
        """Store a new token now; return False when the cache is away."""
        return tolerant_cache.set(self.key, uuid.uuid4().hex, timeout=None)

    def replace_on_commit(self) -> None:
        """Store a new token once the current transaction commits (at once outside one)."""
        transaction.on_commit(self.replace)
