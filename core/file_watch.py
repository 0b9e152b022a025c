"""Each process's copies of the file cache's versions (core.cache.CacheVersion), used only while
Linux's inotify tells the process of every change to their files: the embedded default's
counterpart of core.version_watch.

Reading a version from the file cache opens, unpickles and decompresses a file on every catalog
page, a sixth of the page's time. The kernel queues an event on the cache's folder before any
write, rename or removal of a file there returns to the process that made it, so a process that
reads its queue (one non-blocking read, no thread) before using a copy knows of every change
made before it asked: a copy is forgotten when its file is written, replaced or removed, all
copies when the queue overflowed, and the copies stand down when the folder itself goes.
Elsewhere than on Linux, versions are read from their files every time.
"""

import ctypes
import os
import struct
import time
import weakref

from core.kept_versions import KeptVersions

IN_MODIFY = 0x2
IN_CLOSE_WRITE = 0x8
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_UNMOUNT = 0x2000
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
CHANGES = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
GONE = IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED  # the folder, or its watch
EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of name
RETRY_SECONDS = 1  # between two attempts to watch the folder


def _libc():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.inotify_init1  # noqa: B018 - Linux only
        libc.inotify_add_watch  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _libc()


def available() -> bool:
    return _LIBC is not None


def _failed(*about) -> OSError:
    """Return the error of the libc call that just failed."""
    code = ctypes.get_errno()
    return OSError(code, os.strerror(code), *about)


class FileVersionWatch(KeptVersions):
    """Copies of the versions whose files (mapped to the key as the cache names it) lie in
    `folder`, a FileBasedCache's."""

    def __init__(self, folder: str, files: dict[str, str]):
        super().__init__(files.values())
        self.folder = os.fspath(folder)
        self._files = {name.encode(): key for name, key in files.items()}
        self._closed = False
        self._reset()
        _watches.add(self)

    def _reset(self) -> None:
        # Also in a forked child: the queue it inherited is the parent's, shared with it.
        self._forget_all()
        self._fd: int | None = None
        self._retry_at = 0.0

    @property
    def live(self) -> bool:
        return self._fd is not None

    def _watching(self) -> bool:
        return self._drained()

    def close(self) -> None:
        """Stop watching: the copies are forgotten and never kept again."""
        with self._lock:
            self._closed = True
            self._stand_down()

    def _stand_down(self) -> None:
        self._forget(None)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._retry_at = time.monotonic() + RETRY_SECONDS

    def _drained(self) -> bool:
        """Apply every event queued so far; return whether the folder is watched."""
        if self._fd is None and not self._start():
            return False
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return True
            except OSError as error:
                self._stand_down()
                self._warn(error)
                return False
            if not self._apply(data):
                self._stand_down()
                return False

    def _apply(self, data: bytes) -> bool:
        """Forget the copies that the events in data change; return False once the folder's
        watch is gone."""
        offset = 0
        while offset < len(data):
            _, mask, _, length = EVENT.unpack_from(data, offset)
            name = data[offset + EVENT.size : offset + EVENT.size + length].rstrip(b"\0")
            offset += EVENT.size + length
            if mask & GONE:
                return False
            if mask & IN_Q_OVERFLOW:  # events were lost: any version may have changed
                self._forget(None)
            elif (key := self._files.get(name)) is not None:
                self._forget(key)
        return True

    def _start(self) -> bool:
        if self._closed or _LIBC is None or time.monotonic() < self._retry_at:
            return False
        fd = -1
        try:
            if (fd := _LIBC.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0:
                raise _failed()
            os.makedirs(self.folder, 0o700, exist_ok=True)  # as the cache makes it
            if _LIBC.inotify_add_watch(fd, os.fsencode(self.folder), CHANGES | GONE) < 0:
                raise _failed(self.folder)
        except OSError as error:
            if fd >= 0:
                os.close(fd)
            self._retry_at = time.monotonic() + RETRY_SECONDS
            self._warn(error)
            return False
        # Nothing was kept before: whatever is read from now on is followed.
        self._fd = fd
        self._generation += 1
        return True

    def _warn(self, error: OSError) -> None:
        super()._warn(
            "Cache versions are read from their files on every request: the cache's folder "
            "can't be watched (%s); tried again every %g s.",
            error,
            RETRY_SECONDS,
        )


_watches: weakref.WeakSet[FileVersionWatch] = weakref.WeakSet()


def _after_fork() -> None:
    for watch in list(_watches):
        if watch._fd is not None:
            os.close(watch._fd)  # the parent's queue stays the parent's
        watch._reset()


os.register_at_fork(after_in_child=_after_fork)
