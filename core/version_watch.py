"""Each process's copies of the shared cache's versions (core.cache.CacheVersion), used only
while Redis tells the process of every change to them.

A catalog page kept in memory still asks Redis for the catalog's version, and that round trip
costs more than the rest of the page. A version changes only when what it covers does, so one
thread of each process holds a connection to Redis subscribed to the invalidations of the
versions' keys: Redis's client-side caching in its broadcast mode, spoken over RESP2 as every
Redis since 6.0 does. A copy is forgotten when Redis says its key was written, expired or
evicted, or the database flushed:
- this process's own writes forget it at once (core.cache.RedisCache);
- another process's reach it with Redis's message, a fraction of a millisecond later on one
  network: as soon as a second request could ask.
Copies are used only while the connection stands; when it breaks they are all forgotten, and
versions are read from Redis again until the thread is subscribed once more.
"""

import os
import threading
import weakref

from redis import RedisError
from redis.connection import ConnectionPool

from core.kept_versions import KeptVersions

CHANNEL = "__redis__:invalidate"
# A connection silent this long is asked for a PING, and given as long again to answer.
HEALTH_SECONDS = 5
RETRY_SECONDS = 1  # between two attempts to subscribe


class VersionWatch(KeptVersions):
    """Copies of the versions stored under `keys` (each key as the cache names it, mapped from
    the key as stored in Redis) at the Redis server of `url`."""

    def __init__(self, url: str, keys: dict[str, str]):
        super().__init__(keys.values())
        self.url = url
        self._keys = dict(keys)
        self._closed = threading.Event()
        self._reset()
        _watches.add(self)

    def _reset(self) -> None:
        # Also in a forked child: the parent's thread, connection and locks are not its own.
        closed, self._closed = self._closed.is_set(), threading.Event()
        if closed:
            self._closed.set()
        self._forget_all()
        self._live = False
        self._thread: threading.Thread | None = None

    @property
    def live(self) -> bool:
        return self._live

    def _watching(self) -> bool:
        return self._live

    def get(self, key: str) -> str | None:
        if self._thread is None:
            self._start()
        return super().get(key)

    def close(self) -> None:
        """Stop watching: the copies are forgotten and never kept again."""
        self._closed.set()
        self._stand_down()

    def _stand_down(self) -> None:
        with self._lock:
            self._live = False
            self._forget(None)

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._closed.is_set():
                return
            self._thread = threading.Thread(target=self._run, name="version-watch", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._closed.is_set():
            connection = None
            try:
                connection = self._subscribe()
                with self._lock:
                    self._generation += 1
                    self._live = not self._closed.is_set()
                self._listen(connection)
            except (RedisError, OSError) as error:
                if not self._closed.is_set():
                    self._warn(error)
            finally:
                self._stand_down()
                if connection is not None:
                    connection.disconnect()
            self._closed.wait(RETRY_SECONDS)

    def _subscribe(self):
        """Return a connection subscribed to the invalidations of the versions' keys."""
        pool = ConnectionPool.from_url(
            self.url,
            protocol=2,  # where invalidations come as messages on a channel
            socket_timeout=HEALTH_SECONDS,
            socket_connect_timeout=HEALTH_SECONDS,
        )
        connection = pool.make_connection()
        connection.connect()
        connection.send_command("CLIENT", "ID")
        client_id = connection.read_response()
        # Redis refuses prefixes that overlap: a key that another begins with covers both.
        covering: list[str] = []
        for key in sorted(self._keys):
            if not key.startswith(tuple(covering)):
                covering.append(key)
        prefixes = [word for key in covering for word in ("PREFIX", key)]
        # Sent to this very connection, once it has subscribed to them.
        tracking = ("CLIENT", "TRACKING", "ON", "REDIRECT", client_id, "BCAST", *prefixes)
        connection.send_command(*tracking)
        connection.read_response()
        connection.send_command("SUBSCRIBE", CHANNEL)
        connection.read_response()
        return connection

    def _listen(self, connection) -> None:
        """Forget each copy Redis says is changed, until the connection breaks or is closed."""
        asked = False  # a PING unanswered
        while not self._closed.is_set():
            if connection.can_read(timeout=HEALTH_SECONDS):
                reply = connection.read_response()
                asked = False
                if reply[0] == b"message":
                    self._invalidate(reply[2])
            elif asked:
                raise TimeoutError(f"Redis left a PING unanswered for {HEALTH_SECONDS} s")
            else:
                connection.send_command("PING")
                asked = True

    def _invalidate(self, keys) -> None:
        if keys is None:  # the database was flushed
            self.forget()
            return
        for key in keys:
            name = self._keys.get(key.decode() if isinstance(key, bytes) else key)
            if name is not None:
                self.forget(name)

    def _warn(self, error: Exception) -> None:
        super()._warn(
            "Cache versions are read from Redis on every request: their invalidations can't "
            "be subscribed to (%s: %s); tried again every %g s.",
            type(error).__name__,
            error,
            RETRY_SECONDS,
        )


_watches: weakref.WeakSet[VersionWatch] = weakref.WeakSet()


def _after_fork() -> None:
    for watch in list(_watches):
        watch._reset()


os.register_at_fork(after_in_child=_after_fork)
