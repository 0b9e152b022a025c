"""The Stripe client's time budget and retries, and its refunds, with the SDK talking to the
local sandbox."""

import logging
import time
from decimal import Decimal

import pytest
import stripe
from django.urls import reverse

from core.money import to_minor_units
from coupons.tests.factories import CouponFactory
from orders.models import Order
from orders.tests.factories import place
from payments import stripe_client
from payments.sandbox.objects import REFUND_FAILS
from payments.tests.sandbox import (
    api_calls,
    running_sandbox,
    sandbox_dashboard_refund,
    sandbox_get,
    sandbox_payment,
    sandbox_settle_refunds,
)
from shop.delivery.models import DeliveryMethod
from shop.tests.factories import WineFactory, flat_zone

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


def refund(payment_intent: str, amount_minor: int, refund_id: int, **changes) -> dict:
    return stripe_client.refund_create(
        **{
            "payment_intent": payment_intent,
            "amount_minor": amount_minor,
            "currency": "EUR",
            "refund_id": refund_id,
            "order_number": "W-2026-00017",
            **changes,
        }
    )


def test_a_refund_is_made_once_per_refund_of_ours_with_its_ids_in_the_metadata(sandbox):
    intent = sandbox_payment(sandbox, amount_minor=3870)["payment_intent"]

    made = refund(intent, 1290, 7, reason="requested_by_customer")
    again = refund(intent, 1290, 7, reason="requested_by_customer")

    assert type(made) is dict and type(made["metadata"]) is dict  # plain, as events carry it
    assert again == made
    assert (made["object"], made["status"], made["amount"], made["currency"]) == (
        "refund",
        "succeeded",
        1290,
        "eur",
    )
    assert (made["payment_intent"], made["reason"]) == (intent, "requested_by_customer")
    assert made["metadata"] == {"refund_id": "7", "order_number": "W-2026-00017"}
    assert [r["id"] for r in stripe_client.refund_list(payment_intent=intent)] == [made["id"]]
    posts = [r for r in sandbox_get(sandbox, "/_sandbox/requests") if r["method"] == "POST"]
    keys = [r["headers"]["Idempotency-Key"] for r in posts]
    assert keys == ["refund-7", "refund-7"] == [stripe_client.refund_idempotency_key(7)] * 2


def test_a_refund_whose_answer_was_lost_is_the_same_refund_when_asked_again(sandbox, settings):
    settings.STRIPE_TIMEOUT_SECONDS = 0.2
    intent = sandbox_payment(sandbox, amount_minor=3870)["payment_intent"]
    sandbox.latency = 0.5  # every try times out; Stripe makes the refund all the same

    with pytest.raises(stripe.APIConnectionError):
        refund(intent, 1290, 8)
    sandbox.latency = 0
    made = refund(intent, 1290, 8)

    assert [r["id"] for r in stripe_client.refund_list(payment_intent=intent)] == [made["id"]]
    assert {path for _, path in api_calls(sandbox)} == {"/v1/refunds"}


def test_refunding_more_than_is_left_raises_stripes_error(sandbox):
    intent = sandbox_payment(sandbox, amount_minor=3870)["payment_intent"]
    refund(intent, 3000, 1)

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        refund(intent, 1000, 2)
    refund(intent, 870, 3)
    with pytest.raises(stripe.InvalidRequestError) as refunded:
        refund(intent, 1, 4)

    assert (too_much.value.param, too_much.value.user_message) == (
        "amount",
        "Refund amount (€10.00) is greater than unrefunded amount on charge (€8.70)",
    )
    assert refunded.value.code == "charge_already_refunded"
    assert len(api_calls(sandbox)) == 4  # refusals are not retried


def test_a_refund_is_retrieved_as_it_is_now(sandbox):
    intent = sandbox_payment(sandbox, amount_minor=3870, card=REFUND_FAILS)["payment_intent"]
    made = refund(intent, 3870, 5)
    sandbox_settle_refunds(sandbox)

    now = stripe_client.refund_retrieve(stripe_refund_id=made["id"])

    assert (made["status"], now["status"], now["failure_reason"]) == (
        "succeeded",
        "failed",
        "expired_or_canceled_card",
    )
    assert now["metadata"] == made["metadata"]
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.refund_retrieve(stripe_refund_id="re_unknown")
    assert stripe_client.is_missing(raised.value)


def test_refund_list_has_the_dashboards_refunds_too_in_pages(sandbox, monkeypatch):
    intent = sandbox_payment(sandbox, amount_minor=3870)["payment_intent"]
    ours = refund(intent, 1000, 6)
    theirs = sandbox_dashboard_refund(sandbox, payment_intent=intent, amount_minor=500)
    sandbox.store.clear_requests()

    listed = stripe_client.refund_list(payment_intent=intent)

    assert [(r["id"], r["metadata"]) for r in listed] == [
        (theirs["id"], {}),
        (ours["id"], {"refund_id": "6", "order_number": "W-2026-00017"}),
    ]
    assert api_calls(sandbox) == [("GET", "/v1/refunds")]


def test_a_refund_in_another_currency_than_the_orders_is_returned_and_logged(sandbox, caplog):
    intent = sandbox_payment(sandbox, amount_minor=3870, currency="usd")["payment_intent"]

    with caplog.at_level(logging.ERROR, logger="payments.stripe_client"):
        made = refund(intent, 1000, 9)

    assert made["currency"] == "usd"
    assert "in usd for refund 9 of order W-2026-00017, which is in EUR" in caplog.text


@pytest.mark.parametrize(
    ("amount_minor", "reason"), [(0, None), (10.5, None), (1000, "changed_mind")]
)
def test_a_refund_stripe_would_refuse_is_not_sent(sandbox, amount_minor, reason):
    with pytest.raises(ValueError):
        refund("pi_any", amount_minor, 10, reason=reason)

    assert api_calls(sandbox) == []


# Coupons, delivery charges and prices with odd cents: Stripe must charge each order's total.
AMOUNT_TABLE = [
    (percent, delivery, price, bottles)
    for percent in (0, 10, 33, 100)
    for delivery in ("0.00", "9.90", "free")
    for price, bottles in (("12.50", 2), ("9.99", 3), ("7.35", 1))
]


@pytest.mark.parametrize(("percent", "delivery", "price", "bottles"), AMOUNT_TABLE)
def test_the_session_charges_the_order_total_to_the_cent(
    sandbox, percent, delivery, price, bottles
):
    # "free": a 9.90 delivery, free from 20.00 of wine after the coupon.
    free_from = Decimal("20.00") if delivery == "free" else None
    flat_zone("France", price="9.90" if delivery == "free" else delivery, free_from=free_from)
    code = CouponFactory(percent_off=percent).code if percent else ""
    order = place(lines=[(WineFactory(price=price).pk, bottles)], coupon_code=code)
    if not order.total:
        return  # a coupon covering all with free delivery: paid without Stripe
    session = stripe_client.create_checkout_session(
        order=order, success_url="http://testserver/ok/", cancel_url="http://testserver/no/"
    )

    assert session.amount_total == to_minor_units(order.total, order.currency)
    assert session.total_details.amount_shipping == to_minor_units(order.delivery_charge, "eur")
    assert session.shipping_cost.amount_total == session.total_details.amount_shipping
    if delivery == "free" and order.subtotal - order.discount >= 20:
        assert order.delivery_charge == 0


def test_click_and_collect_is_a_free_shipping_rate_named_so(sandbox):
    order = place(
        lines=[(WineFactory(price="12.50").pk, 1)], delivery_method=DeliveryMethod.COLLECT
    )

    session = stripe_client.create_checkout_session(
        order=order, success_url="http://testserver/ok/", cancel_url="http://testserver/no/"
    )

    assert session.amount_total == 1250
    assert stripe_client.shipping_options(order)[0]["shipping_rate_data"]["display_name"] == (
        "Click & collect"
    )
