"""A Redis server of a test's own, on a free port, that the test can take away and bring back
(the machine's Redis serves everyone else and is never stopped)."""

import shutil
import socket
import subprocess
import time

import redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self, folder):
        self.folder = folder
        self.port = free_port()  # kept across restarts: the shop's cache URL names it
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.05)

    def stop(self, *, keep_data: bool = False) -> None:
        """Stop the server; with `keep_data` it saves what it holds and loads it at the next
        start, as a Redis with snapshots does across a restart."""
        if self.process is not None and self.process.poll() is None:
            if keep_data:
                self.client().save()
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_connect_timeout=1)


def use_cache_url(url: str, settings, monkeypatch) -> None:
    """Make the cache at `url` the default one, with the options production gives it."""
    from backoffice.settings import cache_config

    monkeypatch.setenv("WINESHOP_TEST_CACHE_URL", url)
    settings.CACHES = {"default": cache_config("WINESHOP_TEST_CACHE_URL", default=url)}
