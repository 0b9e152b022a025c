"""The local Stripe stand-in for tests: the SDK talks to it over HTTP, as it would to Stripe.

Besides Stripe's API, tests and drills use its controls: pay a session with a test card, record a
payment made elsewhere (for orders paid by the events a test sends), refund as in Stripe's
dashboard, and settle the refunds that change status later (the test cards' pending and failing
refunds). The test cards are named in payments.sandbox.objects (REFUND_FAILS, ...).
"""

import http.client
import json
import socket
import uuid
from contextlib import contextmanager
from urllib.parse import urlencode, urlsplit

from core.money import to_minor_units
from orders.models import Order
from orders.services import order_mark_paid
from orders.tests.factories import OrderItemFactory, customer, place
from payments import stripe_client
from payments.sandbox import start_in_thread
from payments.sandbox.objects import SUCCEEDS
from shop.tests.factories import WineFactory


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


def sandbox_post(server, path: str, data: dict) -> tuple[int, dict | str]:
    """Post a form to the sandbox; return the status and the answer (JSON if it is)."""
    parts = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    conn.request("POST", path, urlencode(data), headers)
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()
    if response.getheader("Content-Type", "").startswith("application/json"):
        return response.status, json.loads(body)
    return response.status, body


def sandbox_pay(server, session_id: str, *, card: str = SUCCEEDS) -> None:
    """Pay the session on its hosted page with the test card."""
    status, _ = sandbox_post(server, f"/pay/{session_id}", {"action": "pay", "card": card})
    assert status == 303


def sandbox_payment(
    server,
    *,
    amount_minor: int,
    currency: str = "eur",
    card: str = SUCCEEDS,
    payment_intent: str = "",
) -> dict:
    """Record a card payment at the sandbox (under the payment intent given, if any); return its
    charge, whose `payment_intent` is the payment's id."""
    data = {"amount": amount_minor, "currency": currency, "card": card}
    if payment_intent:
        data["payment_intent"] = payment_intent
    status, charge = sandbox_post(server, "/_sandbox/payments", data)
    assert status == 200, charge
    return charge


def sandbox_payment_for(server, order: Order, *, card: str = SUCCEEDS) -> dict:
    """Record the order's payment at the sandbox, for its total, under its payment intent if it
    has one; return the charge."""
    return sandbox_payment(
        server,
        amount_minor=to_minor_units(order.total, order.currency),
        currency=order.currency.lower(),
        card=card,
        payment_intent=order.payment_intent,
    )


def sandbox_dashboard_refund(
    server, *, payment_intent: str, amount_minor: int | None = None, reason: str = ""
) -> dict:
    """Refund the payment as a person does in Stripe's dashboard (no metadata of ours); return
    the refund. The events follow as for any refund."""
    data = {"payment_intent": payment_intent}
    if amount_minor is not None:
        data["amount"] = amount_minor
    if reason:
        data["reason"] = reason
    status, refund = sandbox_post(server, "/_sandbox/refunds", data)
    assert status == 200, refund
    return refund


def sandbox_settle_refunds(server) -> int:
    """Give the refunds waiting for their later status (pending ones succeed, card 5126's fail)
    that status now, with their events; return how many changed."""
    status, answer = sandbox_post(server, "/_sandbox/refunds/settle", {})
    assert status == 200, answer
    return answer["settled"]


def api_calls(server) -> list[tuple[str, str]]:
    """Return (method, path) of every API request that reached the sandbox, answered or not."""
    return [(c["method"], c["path"]) for c in sandbox_get(server, "/_sandbox/requests")]


def paid_order(server, *, card: str = SUCCEEDS) -> Order:
    """Return an order of 3 bottles at 12.00 and 1 at 9.00 (of 10 in stock each), paid at the
    sandbox with the card."""
    wines = WineFactory(stock=10, price="12.00"), WineFactory(stock=10, price="9.00")
    order = place(lines=[(wines[0].pk, 3), (wines[1].pk, 1)], customer=customer())
    order_mark_paid(
        order_id=order.pk,
        payment_intent=f"pi_{uuid.uuid4().hex[:24]}",
        amount_minor=to_minor_units(order.total, order.currency),
        currency=order.currency,
    )
    order.refresh_from_db()
    sandbox_payment_for(server, order, card=card)
    return order


def pending_with_session() -> Order:
    """Return a pending order of 25.00 whose open Checkout Session is at the sandbox."""
    order = OrderItemFactory().order
    session = stripe_client.create_checkout_session(
        order=order, success_url="http://testserver/ok/", cancel_url="http://testserver/no/"
    )
    Order.objects.filter(pk=order.pk).update(stripe_session_id=session.id)
    order.refresh_from_db()
    return order
