"""Payments connects to orders: the Checkout Session of an order released unpaid is closed at
Stripe (the local sandbox), and a refund written is sent to it."""

from decimal import Decimal

import pytest
from django.urls import reverse

from backoffice.tests.workers import broker_away
from orders.exceptions import InvalidTransition
from orders.models import Order, Refund
from orders.refunds import refund_request
from orders.services import order_cancel, order_expire, order_mark_paid
from orders.tests.factories import OrderItemFactory
from payments import stripe_client
from payments.tasks import checkout_session_expire
from payments.tests.sandbox import api_calls, paid_order, sandbox_pay

pytestmark = pytest.mark.django_db


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
        with pytest.raises(InvalidTransition):  # a paid order is refunded, not canceled
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


def test_a_refund_requested_is_sent_to_stripe_once_it_is_committed(
    sandbox, django_capture_on_commit_callbacks
):
    order = paid_order(sandbox)

    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_request(order_id=order.pk, amount=Decimal("5.00"), reason="", actor=None)
        assert api_calls(sandbox) == []  # not before the refund is written for good

    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert api_calls(sandbox) == [("POST", "/v1/refunds")]


def test_a_refund_requested_while_the_broker_is_away_waits_for_the_reconciliation(
    sandbox, django_capture_on_commit_callbacks, caplog
):
    order = paid_order(sandbox)

    with broker_away(), django_capture_on_commit_callbacks(execute=True):
        refund = refund_request(order_id=order.pk, amount=Decimal("5.00"), reason="", actor=None)

    refund.refresh_from_db()
    assert refund.status == Refund.Status.PENDING
    assert api_calls(sandbox) == []
    assert (
        f"refund_submit({refund.pk},) was not queued; the refund waits for the reconciliation"
        in caplog.text
    )
