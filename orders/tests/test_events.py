import pytest

from orders.events import order_event_record
from orders.models import Order, OrderEvent
from orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_an_event_joins_the_timeline_of_its_order_in_order(admin_user):
    order = OrderFactory()
    order_event_record(order_id=order.pk, kind=OrderEvent.Kind.NOTE, message="Called.")
    order_event_record(
        order_id=order.pk,
        kind=OrderEvent.Kind.STATUS,
        message="Shipped.",
        actor=admin_user,
        from_status=Order.Status.PAID,
        to_status=Order.Status.SHIPPED,
    )

    assert list(
        order.events.values_list("kind", "message", "actor", "from_status", "to_status")
    ) == [
        ("note", "Called.", None, "", ""),
        ("status", "Shipped.", admin_user.pk, "paid", "shipped"),
    ]
