import pytest
from django.urls import reverse

from orders.models import Order
from orders.tests.factories import CHECKOUT_FIELDS, customer, place
from payments.tests.sandbox import running_sandbox
from shop.tests.factories import WineFactory


@pytest.fixture
def sandbox(settings):
    with running_sandbox(settings) as server:  # no webhook: only what our code asks counts
        yield server


@pytest.fixture
def order():
    """A pending order of 2 bottles at 12.90, of the 10 in stock."""
    return place(lines=[(WineFactory(stock=10, price="12.90").pk, 2)], customer=customer())


@pytest.fixture
def placed(client):
    """A pending order this client's session placed: 2 bottles at 12.90 and 1 at 7.35."""
    a, b = WineFactory(price="12.90", stock=5), WineFactory(price="7.35", stock=5)
    client.post(reverse("shop:cart_add", args=[a.pk]), {"quantity": 2})
    client.post(reverse("shop:cart_add", args=[b.pk]), {"quantity": 1})
    response = client.post(
        reverse("orders:checkout"), {**CHECKOUT_FIELDS, "expected_total": "33.15"}
    )
    order = Order.objects.get()
    assert response.url == reverse("payments:process", args=[order.number])
    return order
