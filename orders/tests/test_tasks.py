import pytest

from orders.models import Order
from orders.tasks import order_expire_unpaid
from orders.tests.factories import aged, customer, place
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db


def test_expiry_task_uses_the_configured_age(settings):
    settings.ORDER_UNPAID_EXPIRY_MINUTES = 30
    order = place(lines=[(WineFactory(stock=5).pk, 1)], customer=customer())
    Order.objects.filter(pk=order.pk).update(stripe_session_id="cs_test_reached")
    aged(order, 31)
    assert order_expire_unpaid.delay().get() == 1
