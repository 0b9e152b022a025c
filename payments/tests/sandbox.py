"""The local Stripe stand-in for tests: the SDK talks to it over HTTP, as it would to Stripe."""

import socket
from contextlib import contextmanager

from payments import stripe_client
from payments.sandbox import start_in_thread


@contextmanager
def running_sandbox(settings, *, webhook_url: str | None = None, latency: float = 0.0):
    server, _ = start_in_thread(
        webhook_url=webhook_url, secret=settings.STRIPE_WEBHOOK_SECRET, latency=latency
    )
    settings.STRIPE_SANDBOX_URL = server.base_url
    stripe_client._client.cache_clear()
    try:
        yield server
    finally:
        server.stop()
        stripe_client._client.cache_clear()


@contextmanager
def silent_server():
    """Yield the address of a server that takes connections and never answers a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)  # the kernel accepts; nothing ever reads or replies
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
