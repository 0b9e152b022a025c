"""The payment tasks, run in-process as the suite runs tasks, against the local Stripe sandbox."""

from datetime import timedelta
from decimal import Decimal

import pytest
import stripe
from django.utils import timezone

from orders.models import Order, Refund
from orders.refunds import refund_request
from orders.tests.factories import OrderItemFactory
from payments import stripe_client, tasks
from payments.models import StripeEvent
from payments.tests.sandbox import api_calls, paid_order, pending_with_session, sandbox_pay

pytestmark = pytest.mark.django_db


def test_the_reconcile_task_settles_the_orders_left_pending_for_ten_minutes(sandbox):
    paid, recent = pending_with_session(), pending_with_session()
    for order in (paid, recent):
        sandbox_pay(sandbox, order.stripe_session_id)  # no webhook came
    Order.objects.filter(pk=paid.pk).update(created=timezone.now() - timedelta(minutes=11))

    assert tasks.payment_reconcile.delay().get() == 1

    paid.refresh_from_db()
    recent.refresh_from_db()
    assert (paid.status, recent.status) == (Order.Status.PAID, Order.Status.PENDING)


def test_the_expire_task_closes_the_session_of_an_order_no_longer_pending(sandbox):
    order = pending_with_session()
    assert tasks.checkout_session_expire.delay(order.pk).get() is False  # still payable
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELED)

    assert tasks.checkout_session_expire.delay(order.pk).get() is True

    session = stripe_client.retrieve_checkout_session(order.stripe_session_id)
    assert session.status == "expired"


def test_the_refund_task_sends_a_refund_once(sandbox):
    order = paid_order(sandbox)
    refund = refund_request(order_id=order.pk, amount=Decimal("5.00"), reason="", actor=None)

    assert tasks.refund_submit.delay(refund.pk).get() == StripeEvent.Outcome.APPLIED
    assert tasks.refund_submit.delay(refund.pk).get() is None  # settled: not sent again

    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert api_calls(sandbox) == [("POST", "/v1/refunds")]


def test_the_refund_task_retries_while_stripe_is_away(settings):
    order = OrderItemFactory().order
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.PAID, paid_at=timezone.now(), payment_intent="pi_away"
    )
    refund = refund_request(order_id=order.pk, amount=Decimal("5.00"), reason="", actor=None)
    settings.STRIPE_SANDBOX_URL = "http://127.0.0.1:9"  # nothing listens there
    stripe_client._client.cache_clear()

    result = tasks.refund_submit.apply(args=[refund.pk])

    stripe_client._client.cache_clear()
    assert result.state == "RETRY" or isinstance(result.result, stripe.APIConnectionError)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.PENDING  # for the next try, or the reconciliation
