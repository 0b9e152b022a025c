"""The Stripe client's time budget and retries, with the SDK talking to the local sandbox."""

import time

import pytest
from django.urls import reverse

from orders.models import Order
from payments import stripe_client
from payments.tests.sandbox import api_calls, running_sandbox, sandbox_get

pytestmark = pytest.mark.django_db


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
