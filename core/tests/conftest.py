import socket

import pytest


@pytest.fixture
def redis_away(settings):
    """The shared cache is Redis on a free port where nothing listens: every call fails to
    connect. The port is new for each test, and with it the outage state kept per server."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    return settings
