"""The payment tasks, run in-process as the suite runs tasks, against the local Stripe sandbox."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import Order
from payments import stripe_client, tasks
from payments.tests.sandbox import pending_with_session, sandbox_pay

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
