"""Copies of the file cache's versions kept while Linux tells the process of every change to
their files; "another process" is a process of its own, or a cache object of its own on the
same folder (the kernel tells of every process's writes alike)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.cache.backends.filebased import FileBasedCache

from core import file_watch
from core.cache import CacheVersion, version_watch

pytestmark = pytest.mark.skipif(not file_watch.available(), reason="Linux's inotify only")

# Made at import, before any watch: every watch follows them.
THINGS = CacheVersion("watched-things:version")

FILE_CACHE = f"{FileBasedCache.__module__}.FileBasedCache"
ANOTHER_PROCESS = """
import sys
import django
from django.conf import settings

backend, folder, key, value = sys.argv[1:]
settings.configure(CACHES={"default": {"BACKEND": backend, "LOCATION": folder}})
django.setup()
from django.core.cache import cache
cache.set(key, value, None)
"""


@pytest.fixture
def watched(file_cache):
    """The watch, with THINGS stored, read and kept."""
    THINGS.current()
    watch = version_watch()
    assert isinstance(watch, file_watch.FileVersionWatch)
    THINGS.current()
    assert watch.live and watch.get(THINGS.key) is not None
    return watch


def another_cache(folder) -> FileBasedCache:
    return FileBasedCache(str(folder), {})


def test_a_version_is_read_from_its_file_once_while_the_folder_is_watched(
    watched, file_cache_reads
):
    version = THINGS.current()
    assert [THINGS.current() for _ in range(20)] == [version] * 20
    assert file_cache_reads == []


def test_another_process_replacing_a_version_is_seen_on_the_next_read(file_cache, watched):
    old = THINGS.current()
    subprocess.run(
        [sys.executable, "-c", ANOTHER_PROCESS, FILE_CACHE, str(file_cache), THINGS.key, "new"],
        check=True,
        timeout=60,
    )
    # No wait: the kernel queued the news before the other process's rename returned.
    assert THINGS.current() == "new" != old


def test_this_processs_own_replace_delete_and_clear_are_seen_at_once(watched):
    versions = [THINGS.current()]
    for change in (THINGS.replace, lambda: cache.delete(THINGS.key), cache.clear):
        change()
        versions.append(THINGS.current())
    assert len(set(versions)) == 4
    assert cache.get(THINGS.key) == versions[-1]  # what every process reads


def test_a_version_removed_or_cleared_is_made_again(file_cache, watched):
    old = THINGS.current()
    another_cache(file_cache).delete(THINGS.key)
    removed = THINGS.current()
    assert removed != old
    another_cache(file_cache).clear()
    assert THINGS.current() not in (old, removed)


def test_a_version_read_while_another_changes_is_not_kept(file_cache, watched):
    seen = watched.seen()
    another_cache(file_cache).set(THINGS.key, "changed-between", None)  # after the read
    watched.keep(THINGS.key, "read-before-the-change", seen)
    assert watched.get(THINGS.key) is None
    assert THINGS.current() == "changed-between"


def test_events_lost_to_a_full_queue_forget_every_copy(file_cache, watched):
    THINGS.current()
    limit = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    # Two files written in turn: the kernel merges only an event equal to the one before it.
    paths = [os.path.join(file_cache, name) for name in ("a.tmp", "b.tmp")]
    for n in range(limit // 2 + 1):
        with open(paths[n % 2], "wb") as file:
            file.write(b"x")
    assert watched.get(THINGS.key) is None
    THINGS.current()
    assert watched.get(THINGS.key) is not None  # kept again once the queue is read


def test_without_its_folder_the_watch_keeps_nothing_and_comes_back(
    file_cache, watched, file_cache_reads, monkeypatch
):
    monkeypatch.setattr(file_watch, "RETRY_SECONDS", 0)
    for path in file_cache.iterdir():
        path.unlink()
    file_cache.rmdir()
    assert watched.get(THINGS.key) is None
    assert not watched.live
    # The folder comes back with the cache's next write, and the watch with it.
    version = THINGS.current()
    assert watched.live
    assert THINGS.current() == version
    assert watched.get(THINGS.key) == version
    file_cache_reads.clear()
    assert THINGS.current() == version
    assert file_cache_reads == []


def test_a_forked_child_has_a_queue_of_its_own(file_cache, watched):
    old = THINGS.current()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            watch = version_watch()
            report = [watch.live, watch.get(THINGS.key) is None, THINGS.current() == old]
            another_cache(file_cache).set(THINGS.key, "changed-by-the-child", None)
            report.append(THINGS.current() == "changed-by-the-child")
            os.write(write, repr(report).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        report = pipe.read()
    os.waitpid(child, 0)
    # The child started without the parent's copies or queue, and read its own.
    assert report == "[False, True, True, True]"
    # The child's reading left the parent's news in the parent's queue.
    assert THINGS.current() == "changed-by-the-child"


def test_settings_can_turn_the_watch_off(file_cache, settings, file_cache_reads):
    settings.CACHE_VERSION_WATCH = False
    assert version_watch() is None
    version = THINGS.current()
    file_cache_reads.clear()
    assert THINGS.current() == version
    assert len(file_cache_reads) == 1


def test_without_inotify_versions_are_read_every_time(file_cache, monkeypatch, file_cache_reads):
    monkeypatch.setattr(file_watch, "_LIBC", None)
    assert version_watch() is None
    version = THINGS.current()
    file_cache_reads.clear()
    assert THINGS.current() == version
    assert len(file_cache_reads) == 1
