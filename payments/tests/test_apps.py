"""Payments connects to orders: the Checkout Session of an order released unpaid is closed at
Stripe (the local sandbox)."""

import pytest
from django.urls import reverse

from orders.exceptions import InvalidTransition
from orders.models import Order
from orders.services import order_cancel, order_expire, order_mark_paid
from orders.tests.factories import OrderItemFactory
from payments import stripe_client
from payments.tasks import checkout_session_expire
from payments.tests.sandbox import api_calls, sandbox_pay

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
