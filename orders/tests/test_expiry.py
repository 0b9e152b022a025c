from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import Order, OrderEvent
from orders.services import order_expire_unpaid, order_place
from orders.tasks import order_expire_unpaid as expire_task
from orders.tests.factories import customer
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db


def aged(order, minutes):
    Order.objects.filter(pk=order.pk).update(created=timezone.now() - timedelta(minutes=minutes))


def test_expiry_releases_stock_of_old_unpaid_orders_exactly_once():
    wine = WineFactory(stock=10)
    old = order_place(lines=[(wine.pk, 3)], customer=customer())
    recent = order_place(lines=[(wine.pk, 2)], customer=customer())
    paid = order_place(lines=[(wine.pk, 1)], customer=customer())
    aged(old, 90)
    aged(paid, 90)
    Order.objects.filter(pk=paid.pk).update(status=Order.Status.PAID)

    Order.objects.update(stripe_session_id="cs_test_reached")
    assert order_expire_unpaid(unpaid_minutes=60, unreached_minutes=30) == 1
    assert order_expire_unpaid(unpaid_minutes=60, unreached_minutes=30) == 0
    wine.refresh_from_db()
    assert wine.stock == 10 - 2 - 1
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {old.pk: "expired", recent.pk: "pending", paid.pk: "paid"}
    assert old.events.filter(kind=OrderEvent.Kind.STOCK_RELEASED).count() == 1


def test_expiry_task_uses_the_configured_age(settings):
    settings.ORDER_UNPAID_EXPIRY_MINUTES = 30
    order = order_place(lines=[(WineFactory(stock=5).pk, 1)], customer=customer())
    Order.objects.filter(pk=order.pk).update(stripe_session_id="cs_test_reached")
    aged(order, 31)
    assert expire_task.delay().get() == 1


def test_an_order_that_never_reached_stripe_is_released_after_the_short_hold(settings):
    settings.ORDER_UNPAID_EXPIRY_MINUTES = 24 * 60
    settings.ORDER_UNREACHED_HOLD_MINUTES = 30
    wine = WineFactory(stock=10)
    unreached = order_place(lines=[(wine.pk, 3)], customer=customer())
    reached = order_place(lines=[(wine.pk, 2)], customer=customer())
    # The customer of this one opened Stripe's page (payments.services.checkout_session_ensure).
    Order.objects.filter(pk=reached.pk).update(stripe_session_id="cs_test_open")
    fresh = order_place(lines=[(wine.pk, 1)], customer=customer())
    aged(unreached, 31)
    aged(reached, 31)

    assert expire_task.delay().get() == 1
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {unreached.pk: "expired", reached.pk: "pending", fresh.pk: "pending"}
    wine.refresh_from_db()
    assert wine.stock == 10 - 2 - 1
    assert "payment page was never opened" in unreached.events.get(to_status="expired").message

    # The one that reached Stripe keeps its bottles for the full payment window.
    aged(reached, 24 * 60 + 1)
    assert expire_task.delay().get() == 1
    wine.refresh_from_db()
    assert wine.stock == 10 - 1
