from decimal import Decimal

import pytest

from orders.exceptions import RefundTooLarge
from orders.refunds import refund_request, refund_succeed
from orders.signals import order_paid, refund_requested, refund_succeeded
from orders.tests.factories import OrderFactory, paid_order, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    orders = []

    def listener(sender, *, order_id, **kwargs):
        orders.append(order_id)

    order_paid.connect(listener, dispatch_uid="test-order-paid")
    yield orders
    order_paid.disconnect(dispatch_uid="test-order-paid")


def listen(signal, request) -> list[tuple[int, int]]:
    """Return the list the signal's (refund_id, order_id) are added to, for the test's time."""
    told = []

    def listener(sender, *, refund_id, order_id, **kwargs):
        told.append((refund_id, order_id))

    signal.connect(listener, dispatch_uid=request.node.name, weak=False)
    request.addfinalizer(lambda: signal.disconnect(dispatch_uid=request.node.name))
    return told


def test_paying_announces_the_order_once_when_the_payment_commits(
    heard, django_capture_on_commit_callbacks
):
    order = OrderFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        pay(order)
    assert heard == []  # nothing is told before the payment is committed
    for callback in callbacks:
        callback()
    assert heard == [order.pk]

    with django_capture_on_commit_callbacks(execute=True):
        pay(order)  # Stripe telling it again
    assert heard == [order.pk]


def test_a_refund_is_announced_for_stripe_once_it_is_committed(
    request, django_capture_on_commit_callbacks
):
    told = listen(refund_requested, request)
    order = paid_order(("10.00", 1))
    with django_capture_on_commit_callbacks() as callbacks:
        refund = refund_request(order_id=order.pk, amount=Decimal(1), reason="", actor=None)
    assert told == []  # Stripe is not asked for a refund that may yet be rolled back
    for callback in callbacks:
        callback()
    assert told == [(refund.pk, order.pk)]

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RefundTooLarge):
        refund_request(order_id=order.pk, amount=Decimal(100), reason="", actor=None)
    assert told == [(refund.pk, order.pk)]


def test_a_refund_succeeding_is_announced_once(request, django_capture_on_commit_callbacks):
    told = listen(refund_succeeded, request)
    order = paid_order(("10.00", 1))
    refund = refund_request(order_id=order.pk, amount=Decimal(1), reason="", actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        refund_succeed(refund_id=refund.pk)
        refund_succeed(refund_id=refund.pk)  # Stripe telling it again
    assert told == [(refund.pk, order.pk)]
