import pytest

from orders.models import Order
from orders.selectors import EXPORT_CHUNK, order_export_rows
from orders.tests.factories import OrderFactory, OrderItemFactory

pytestmark = pytest.mark.django_db


def test_export_rows_read_orders_in_chunks(django_assert_num_queries):
    for order in OrderFactory.create_batch(EXPORT_CHUNK + 1):
        OrderItemFactory(order=order)
    with django_assert_num_queries(3):  # the orders, then the items of each chunk of orders
        rows = list(order_export_rows(Order.objects.all()))
    assert len(rows) == EXPORT_CHUNK + 1
