from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction

from orders.changes import orders_version
from orders.models import Order, OrderItem, Refund
from orders.tests.factories import paid_order

pytestmark = pytest.mark.django_db

WRITES = {
    "save": lambda order: order.save(),
    "update": lambda order: Order.objects.filter(pk=order.pk).update(phone="+33 6 12 34 56 78"),
    "bulk_update": lambda order: OrderItem.objects.bulk_update(order.items.all(), ["quantity"]),
    "bulk_create": lambda order: OrderItem.objects.bulk_create(
        [OrderItem(order=order, sku="X", wine_name="X", unit_price=1, quantity=1, line_total=1)]
    ),
    "refund saved": lambda order: Refund.objects.create(
        order=order, kind=Refund.Kind.STAFF, status=Refund.Status.PENDING, amount=Decimal("1.00")
    ),
    "delete": lambda order: order.items.all().delete(),
}


@pytest.mark.parametrize("write", WRITES)
def test_each_write_replaces_the_version_once_committed(write, django_capture_on_commit_callbacks):
    order = paid_order(("25.00", 2))
    version = orders_version()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        WRITES[write](order)
    assert orders_version() == version  # not before the commit: readers would cache the old
    for callback in callbacks:
        callback()
    assert orders_version() != version


def test_a_write_rolled_back_keeps_the_version(django_capture_on_commit_callbacks):
    order = paid_order(("25.00", 2))
    version = orders_version()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        Refund.objects.filter(order=order).update(amount=1)
        raise RuntimeError
    assert orders_version() == version


def test_migrations_replace_the_version():
    version = orders_version()
    call_command("migrate", "orders", verbosity=0)
    assert orders_version() != version
