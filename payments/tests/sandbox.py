"""The local Stripe stand-in for tests: the SDK talks to it over HTTP, as it would to Stripe."""

import http.client
import json
import socket
from contextlib import contextmanager
from urllib.parse import urlencode, urlsplit

from orders.models import Order
from orders.tests.factories import OrderItemFactory
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


def sandbox_get(server, path: str):
    parts = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", path)
    return json.loads(conn.getresponse().read())


def sandbox_pay(server, session_id: str) -> None:
    parts = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    body = urlencode({"action": "pay"})
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    conn.request("POST", f"/pay/{session_id}", body, headers)
    assert conn.getresponse().status == 303


def api_calls(server) -> list[tuple[str, str]]:
    """Return (method, path) of every API request that reached the sandbox, answered or not."""
    return [(c["method"], c["path"]) for c in sandbox_get(server, "/_sandbox/requests")]


def pending_with_session() -> Order:
    """Return a pending order of 25.00 whose open Checkout Session is at the sandbox."""
    order = OrderItemFactory().order
    session = stripe_client.create_checkout_session(
        order=order, success_url="http://testserver/ok/", cancel_url="http://testserver/no/"
    )
    Order.objects.filter(pk=order.pk).update(stripe_session_id=session.id)
    order.refresh_from_db()
    return order
