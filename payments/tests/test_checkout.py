"""The payment views and reconciliation, with the SDK talking to the local Stripe sandbox."""

import http.client
import json
import time
from urllib.parse import urlencode, urlsplit

import pytest
from django.urls import reverse

from orders.models import Order
from orders.services import order_cancel, order_expire, order_mark_paid
from orders.tests.factories import CHECKOUT_FIELDS, OrderItemFactory
from orders.views import PLACED_ORDERS_KEY
from payments import stripe_client
from payments.services import payment_reconcile
from payments.tasks import checkout_session_expire
from payments.tests.sandbox import running_sandbox, silent_server
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(settings):
    with running_sandbox(settings) as server:  # no webhook: only what our code asks counts
        yield server


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


@pytest.fixture
def placed(client):
    """A pending order this client's session placed: 2 bottles at 12.90 and 1 at 7.35."""
    a, b = WineFactory(price="12.90", stock=5), WineFactory(price="7.35", stock=5)
    client.post(reverse("shop:cart_add", args=[a.pk]), {"quantity": 2})
    client.post(reverse("shop:cart_add", args=[b.pk]), {"quantity": 1})
    response = client.post(
        reverse("orders:checkout"), {**CHECKOUT_FIELDS, "expected_total": "33.15"}
    )
    order = Order.objects.get()
    assert response.url == reverse("payments:process", args=[order.number])
    return order


def test_payment_process_opens_a_checkout_session_with_the_orders_lines(client, placed, sandbox):
    response = client.get(reverse("payments:process", args=[placed.number]))
    assert response.status_code == 303
    placed.refresh_from_db()
    assert response["Location"] == f"{sandbox.base_url}/pay/{placed.stripe_session_id}"

    (call,) = sandbox_get(sandbox, "/_sandbox/requests")
    assert (call["method"], call["path"]) == ("POST", "/v1/checkout/sessions")
    params = call["params"]
    assert params["mode"] == "payment"
    assert params["client_reference_id"] == str(placed.pk)
    assert params["metadata"] == {"order_number": placed.number}
    assert params["customer_email"] == "camille@example.com"
    lines = sorted(
        (
            int(item["price_data"]["unit_amount"]),
            int(item["quantity"]),
            item["price_data"]["currency"],
        )
        for item in params["line_items"]
    )
    assert lines == [(735, 1, "eur"), (1290, 2, "eur")]
    assert params["success_url"].endswith(reverse("payments:completed", args=[placed.number]))
    assert params["cancel_url"].endswith(reverse("payments:canceled", args=[placed.number]))
    assert 30 * 60 <= int(params["expires_at"]) - time.time() <= 24 * 3600
    assert call["headers"]["Idempotency-Key"].startswith(f"checkout-{placed.number}-")


def test_an_open_session_is_reused_not_doubled(client, placed, sandbox):
    first = client.get(reverse("payments:process", args=[placed.number]))["Location"]
    second = client.get(reverse("payments:process", args=[placed.number]))["Location"]
    assert first == second
    calls = [(c["method"], c["path"]) for c in sandbox_get(sandbox, "/_sandbox/requests")]
    assert calls.count(("POST", "/v1/checkout/sessions")) == 1


def test_the_completed_page_never_marks_the_order_paid(client, placed, sandbox):
    client.get(reverse("payments:process", args=[placed.number]))
    response = client.get(reverse("payments:completed", args=[placed.number]))
    assert "We are confirming your payment" in response.content.decode()
    placed.refresh_from_db()
    assert placed.status == Order.Status.PENDING


def test_someone_elses_order_cannot_be_paid_or_seen(client, placed, sandbox):
    client.session  # noqa: B018 - load, then forget the order
    session = client.session
    session[PLACED_ORDERS_KEY] = []
    session.save()
    for name in ("payments:process", "payments:completed", "payments:canceled"):
        assert client.get(reverse(name, args=[placed.number])).status_code == 404


def test_stripe_unreachable_gives_a_clear_message_and_the_order_stays_pending(
    client, placed, settings
):
    settings.STRIPE_SANDBOX_URL = "http://127.0.0.1:1"  # nothing listens there
    from payments import stripe_client

    stripe_client._client.cache_clear()
    response = client.get(reverse("payments:process", args=[placed.number]))
    stripe_client._client.cache_clear()
    assert response.status_code == 503
    assert "Our payment provider did not answer" in response.content.decode()
    assert "Try the payment again" in response.content.decode()
    placed.refresh_from_db()
    assert placed.status == Order.Status.PENDING


def test_a_stripe_timeout_gives_the_retry_page_and_a_retry_once_stripe_answers_works(
    client, placed, settings
):
    process = reverse("payments:process", args=[placed.number])
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    with silent_server() as url:
        settings.STRIPE_SANDBOX_URL = url
        stripe_client._client.cache_clear()
        response = client.get(process)
    assert response.status_code == 503
    assert "Our payment provider did not answer" in response.content.decode()
    placed.refresh_from_db()
    assert (placed.status, placed.stripe_session_id) == (Order.Status.PENDING, "")

    with running_sandbox(settings) as server:
        response = client.get(process)
    assert response.status_code == 303
    assert response["Location"].startswith(server.base_url)
    placed.refresh_from_db()
    assert placed.status == Order.Status.PENDING
    assert placed.stripe_session_id.startswith("cs_")


def test_reconciliation_marks_paid_an_order_whose_webhook_never_came(client, placed, sandbox):
    client.get(reverse("payments:process", args=[placed.number]))
    placed.refresh_from_db()
    sandbox_pay(sandbox, placed.stripe_session_id)  # paid at Stripe; no webhook reaches us
    assert payment_reconcile(older_than_minutes=0) == 1
    placed.refresh_from_db()
    assert placed.status == Order.Status.PAID
    assert placed.payment_intent.startswith("pi_")
    assert payment_reconcile(older_than_minutes=0) == 0


def test_reconciliation_releases_the_stock_of_an_expired_session(client, placed, sandbox):
    client.get(reverse("payments:process", args=[placed.number]))
    placed.refresh_from_db()
    from payments import stripe_client

    stripe_client.client().v1.checkout.sessions.expire(placed.stripe_session_id)
    assert payment_reconcile(older_than_minutes=0) == 1
    placed.refresh_from_db()
    assert placed.status == Order.Status.EXPIRED
    assert {item.wine.stock for item in placed.items.all()} == {5}


def test_a_canceled_payment_can_be_tried_again_while_the_order_is_pending(client, placed, sandbox):
    client.get(reverse("payments:process", args=[placed.number]))
    page = client.get(reverse("payments:canceled", args=[placed.number])).content.decode()
    assert reverse("payments:process", args=[placed.number]) in page
    Order.objects.filter(pk=placed.pk).update(status=Order.Status.EXPIRED)
    page = client.get(reverse("payments:canceled", args=[placed.number])).content.decode()
    assert reverse("payments:process", args=[placed.number]) not in page
    assert "expired" in page
    retry = client.get(reverse("payments:process", args=[placed.number]))
    assert retry.url == reverse("orders:order_placed", args=[placed.number])


def api_calls(server) -> list[tuple[str, str]]:
    """Return (method, path) of every API request that reached the sandbox, answered or not."""
    return [(c["method"], c["path"]) for c in sandbox_get(server, "/_sandbox/requests")]


def well_inside_an_attempt_window() -> None:
    """Wait for the next attempt window if this one ends within seconds: a test that retries
    must see both tries in one window, as a customer retrying at once does."""
    left = stripe_client.ATTEMPT_WINDOW_SECONDS - time.time() % stripe_client.ATTEMPT_WINDOW_SECONDS
    if left < 15:
        time.sleep(left)


def test_a_slow_stripe_gets_the_retry_page_within_the_request_budget(client, placed, settings):
    settings.STRIPE_REQUEST_BUDGET_SECONDS = 1  # each try may last 10 s (STRIPE_TIMEOUT_SECONDS)
    process = reverse("payments:process", args=[placed.number])
    well_inside_an_attempt_window()
    with running_sandbox(settings, latency=2.5) as server:
        response = client.get(process)

        assert response.status_code == 503
        assert "Our payment provider did not answer" in response.content.decode()
        # One try fits in the budget: no retry, no second call after it.
        assert api_calls(server) == [("POST", "/v1/checkout/sessions")]
        placed.refresh_from_db()
        assert (placed.status, placed.stripe_session_id) == (Order.Status.PENDING, "")

        # Stripe made the session the shop never heard of: trying again gets that one back.
        server.latency = 0
        retry = client.get(process)
        first, again = sandbox_get(server, "/_sandbox/requests")
        assert first["headers"]["Idempotency-Key"] == again["headers"]["Idempotency-Key"]
        assert first["form"] == again["form"]
    assert retry.status_code == 303
    placed.refresh_from_db()
    assert retry["Location"] == f"{server.base_url}/pay/{placed.stripe_session_id}"


def test_the_budget_spans_every_stripe_call_of_the_payment_page(client, placed, settings):
    """Each call is well within its own timeout, but together they are not."""
    process = reverse("payments:process", args=[placed.number])
    with running_sandbox(settings) as server:
        client.get(process)
        placed.refresh_from_db()
        stripe_client.client().v1.checkout.sessions.expire(placed.stripe_session_id)
        server.store.clear_requests()
        server.latency = 0.6
        settings.STRIPE_REQUEST_BUDGET_SECONDS = 1

        response = client.get(process)

        assert response.status_code == 503
        # The expired session is looked up; the new one's creation gets what is left (if that
        # is worth a try), and there is no retry after it.
        calls = api_calls(server)
        assert calls[0] == ("GET", f"/v1/checkout/sessions/{placed.stripe_session_id}")
        assert calls[1:] in ([], [("POST", "/v1/checkout/sessions")])


def test_a_session_stripe_no_longer_knows_is_replaced(client, placed, sandbox):
    Order.objects.filter(pk=placed.pk).update(stripe_session_id="cs_test_lost_in_a_restart")

    response = client.get(reverse("payments:process", args=[placed.number]))

    assert response.status_code == 303
    placed.refresh_from_db()
    assert placed.stripe_session_id.startswith("cs_test_")
    assert response["Location"] == f"{sandbox.base_url}/pay/{placed.stripe_session_id}"


def test_expiring_an_order_expires_its_checkout_session_once(
    client, placed, sandbox, django_capture_on_commit_callbacks
):
    client.get(reverse("payments:process", args=[placed.number]))
    placed.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        order_expire(order_id=placed.pk)

    session = stripe_client.retrieve_checkout_session(placed.stripe_session_id)
    assert (session.status, session.url) == ("expired", None)
    # Once is enough: the task, run again, leaves the session alone.
    assert checkout_session_expire.delay(placed.pk).get() is False
    calls = api_calls(sandbox)
    assert calls.count(("POST", f"/v1/checkout/sessions/{placed.stripe_session_id}/expire")) == 1


def test_canceling_an_unpaid_order_expires_its_checkout_session_a_paid_one_is_left(
    client, sandbox, django_capture_on_commit_callbacks
):
    unpaid, paid = (OrderItemFactory().order for _ in range(2))
    for order in (unpaid, paid):
        session = stripe_client.create_checkout_session(
            order=order, success_url="http://testserver/ok/", cancel_url="http://testserver/no/"
        )
        Order.objects.filter(pk=order.pk).update(stripe_session_id=session.id)
        order.refresh_from_db()
    sandbox_pay(sandbox, paid.stripe_session_id)
    order_mark_paid(order_id=paid.pk, payment_intent="pi_x", amount_minor=2500, currency="EUR")

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order_id=unpaid.pk, reason="asked by phone")
        order_cancel(order_id=paid.pk, reason="asked by phone")

    expired = [path for method, path in api_calls(sandbox) if path.endswith("/expire")]
    assert expired == [f"/v1/checkout/sessions/{unpaid.stripe_session_id}/expire"]
    assert stripe_client.retrieve_checkout_session(unpaid.stripe_session_id).status == "expired"
    assert stripe_client.retrieve_checkout_session(paid.stripe_session_id).status == "complete"


def test_an_order_never_sent_to_stripe_is_released_without_a_call_to_stripe(
    sandbox, django_capture_on_commit_callbacks
):
    order = OrderItemFactory().order

    with django_capture_on_commit_callbacks(execute=True):
        order_expire(order_id=order.pk)

    assert api_calls(sandbox) == []
