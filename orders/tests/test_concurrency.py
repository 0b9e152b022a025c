"""Real concurrent checkouts on PostgreSQL: threads, each with its own database connection."""

import threading

import pytest
from django.db import connection

from orders.exceptions import InvalidTransition, OutOfStock
from orders.models import Order, OrderEvent
from orders.services import order_cancel, order_expire, order_place
from orders.tests.factories import customer
from shop.models import Wine
from shop.tests.factories import WineFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def run_together(count: int, work) -> list:
    """Run work(i) in count threads released at the same moment; return results or errors."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def target(i):
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        except Exception as error:  # the test inspects every outcome
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_checkouts_for_the_last_bottle_give_one_order(postgres_only):
    wine = WineFactory(stock=1)
    results = run_together(
        2, lambda i: order_place(lines=[(wine.pk, 1)], customer=customer(email=f"c{i}@ex.com"))
    )
    orders = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, OutOfStock)]
    assert (len(orders), len(refused)) == (1, 1), results
    assert Order.objects.count() == 1
    assert Wine.objects.get(pk=wine.pk).stock == 0


def test_many_checkouts_never_oversell(postgres_only):
    a = WineFactory(stock=5)
    b = WineFactory(stock=5)
    # Lines in opposite orders would deadlock without the fixed lock order.
    results = run_together(
        8,
        lambda i: order_place(
            lines=[(a.pk, 1), (b.pk, 1)] if i % 2 else [(b.pk, 1), (a.pk, 1)],
            customer=customer(),
        ),
    )
    placed = sum(isinstance(r, Order) for r in results)
    assert all(isinstance(r, Order | OutOfStock) for r in results), results
    assert placed == 5
    assert Wine.objects.get(pk=a.pk).stock == 0
    assert Wine.objects.get(pk=b.pk).stock == 0


def test_concurrent_cancels_release_stock_once(postgres_only):
    wine = WineFactory(stock=10)
    order = order_place(lines=[(wine.pk, 3)], customer=customer())
    results = run_together(4, lambda i: order_cancel(order_id=order.pk))
    assert sum(isinstance(r, Order) for r in results) == 1
    assert sum(isinstance(r, InvalidTransition) for r in results) == 3
    assert Wine.objects.get(pk=wine.pk).stock == 10
    assert order.events.filter(kind=OrderEvent.Kind.STOCK_RELEASED).count() == 1


def test_expiry_racing_a_cancel_releases_stock_once(postgres_only):
    wine = WineFactory(stock=10)
    order = order_place(lines=[(wine.pk, 4)], customer=customer())
    results = run_together(
        2,
        lambda i: order_expire(order_id=order.pk) if i else order_cancel(order_id=order.pk),
    )
    assert sum(isinstance(r, Order) for r in results) == 1
    assert sum(isinstance(r, InvalidTransition) for r in results) == 1
    assert Wine.objects.get(pk=wine.pk).stock == 10
    assert order.events.filter(kind=OrderEvent.Kind.STOCK_RELEASED).count() == 1
