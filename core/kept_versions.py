"""What a process keeps of the cache's versions while it is told of every change to them: the
part common to core.version_watch (Redis tells it) and core.file_watch (Linux tells it)."""

import logging
import threading
import time

WARNING_SECONDS = 60  # at most one warning that versions are read on every request


class KeptVersions:
    """Copies of the versions under `keys`, used only while _watching() says changes to them
    are followed. Every copy forgotten moves a generation on, so that a version read while a
    change came in is not kept: the value read may be the one the change replaced."""

    def __init__(self, keys):
        self._tracked = frozenset(keys)
        self._warned_at = -WARNING_SECONDS
        self._forget_all()

    def _forget_all(self) -> None:
        # Also in a forked child: a lock the parent held at the fork would stay held.
        self._lock = threading.Lock()
        self._copies: dict[str, str] = {}
        self._generation = 0

    def _watching(self) -> bool:
        """Return whether every change to the versions reaches this process now; called under
        the lock."""
        raise NotImplementedError

    def get(self, key: str) -> str | None:
        """Return this process's copy of the version under `key`, if it has a valid one."""
        with self._lock:
            return self._copies.get(key) if self._watching() else None

    def seen(self) -> int:
        """Return a mark to take before reading a version from the cache, for keep()."""
        with self._lock:
            self._watching()
            return self._generation

    def keep(self, key: str, value: str, seen: int) -> None:
        """Keep the version read from the cache since `seen`, unless a version changed
        meanwhile."""
        with self._lock:
            if self._watching() and seen == self._generation and key in self._tracked:
                self._copies[key] = value

    def forget(self, key: str | None = None) -> None:
        """Forget the copy of the version under `key` (every copy when None)."""
        if key is not None and key not in self._tracked:
            return
        with self._lock:
            self._forget(key)

    def _forget(self, key: str | None) -> None:
        self._generation += 1
        if key is None:
            self._copies.clear()
        else:
            self._copies.pop(key, None)

    def _warn(self, message: str, *args) -> None:
        """Log message, at most once every WARNING_SECONDS."""
        now = time.monotonic()
        if now - self._warned_at >= WARNING_SECONDS:
            self._warned_at = now
            logging.getLogger(type(self).__module__).warning(message, *args)
