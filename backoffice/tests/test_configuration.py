import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from backoffice.settings import cache_config

READERS = re.compile(
    r"""(?:env(?:\.\w+)?|os\.environ\.get|environ\.get|cache_config)\(\s*["']([A-Z][A-Z0-9_]+)["']"""
)
# Set by the tools that run the code, never by whoever deploys it.
SET_BY_TOOLS = {"PYTEST_XDIST_WORKER"}


def test_every_variable_read_is_listed_in_env_example():
    base = Path(settings.BASE_DIR)
    sources = [*base.glob("backoffice/*.py"), *base.glob("bench/*.py")]
    read = {name for path in sources for name in READERS.findall(path.read_text())}
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (base / ".env.example").read_text(), re.M))
    assert read, "the pattern finds no variable: it is out of date"
    assert read - listed - SET_BY_TOOLS == set()


def test_redis_connections_time_out_within_the_configured_seconds(monkeypatch):
    monkeypatch.setenv("WINESHOP_TEST_CACHE_URL", "redis://127.0.0.1:6379/8")
    monkeypatch.setenv("CACHE_SOCKET_TIMEOUT", "0.25")
    options = cache_config("WINESHOP_TEST_CACHE_URL", default="")["OPTIONS"]
    assert options == {"socket_connect_timeout": 0.25, "socket_timeout": 0.25}
    monkeypatch.setenv("WINESHOP_TEST_CACHE_URL", "redis://127.0.0.1:6379/8?socket_timeout=2")
    options = cache_config("WINESHOP_TEST_CACHE_URL", default="")["OPTIONS"]
    assert options == {"socket_connect_timeout": 0.25, "socket_timeout": 2}


@pytest.mark.parametrize(
    ("cache_url", "engine"),
    [
        ("redis://127.0.0.1:6379/8", "core.sessions"),
        ("filecache:///tmp/wine-shop-cache", "django.contrib.sessions.backends.db"),
    ],
)
def test_sessions_are_read_through_redis_and_kept_in_the_database(cache_url, engine):
    environment = {k: v for k, v in os.environ.items() if k != "SESSION_ENGINE"}
    environment |= {"CACHE_URL": cache_url, "DJANGO_DEBUG": "1"}
    script = "from backoffice import settings; print(settings.SESSION_ENGINE)"
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == [engine]
