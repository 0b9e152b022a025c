import pytest

from orders.signals import order_paid
from orders.tests.factories import OrderFactory, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    orders = []

    def listener(sender, *, order_id, **kwargs):
        orders.append(order_id)

    order_paid.connect(listener, dispatch_uid="test-order-paid")
    yield orders
    order_paid.disconnect(dispatch_uid="test-order-paid")


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
