"""Checkout limits: order placements per session, per address group and for the whole shop,
and unpaid orders per session, address group and email (orders/limits.py)."""

import pytest
from django.test import Client
from django.urls import reverse

from core.money import to_minor_units
from orders.models import Order
from orders.services import order_mark_paid
from orders.tests.factories import CHECKOUT_FIELDS
from shop.models import Wine
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def wine():
    return WineFactory(price="12.00", stock=1_000)


@pytest.fixture
def limits(settings):
    """The production defaults the tests below start from (the suite's are far higher)."""
    settings.TRUSTED_PROXY_HOPS = 1
    settings.ORDER_PLACEMENTS_PER_SESSION = 10
    settings.ORDER_PLACEMENTS_PER_ADDRESS = 30
    settings.ORDER_PLACEMENTS_GLOBAL = 1000
    settings.ORDER_OPEN_PER_SESSION = settings.ORDER_OPEN_PER_ADDRESS = 100
    settings.ORDER_OPEN_PER_EMAIL = 100
    return settings


def checkout(client, wine, *, address="203.0.113.9", **fields):
    client.post(reverse("shop:cart_add", args=[wine.pk]), {"quantity": 1})
    data = {**CHECKOUT_FIELDS, "expected_total": str(wine.price), **fields}
    return client.post(reverse("orders:checkout"), data, HTTP_X_FORWARDED_FOR=address)


def assert_refused(response) -> None:
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    page = response.content.decode()
    assert "Please try again in" in page
    assert reverse("shop:cart_detail") in page


def test_placements_per_session_are_limited(client, wine, limits):
    limits.ORDER_PLACEMENTS_PER_SESSION = 3
    for _ in range(3):
        assert checkout(client, wine).status_code == 302
    before = Wine.objects.get(pk=wine.pk).stock

    response = checkout(client, wine)

    assert_refused(response)
    assert Order.objects.count() == 3
    assert Wine.objects.get(pk=wine.pk).stock == before
    assert client.session["cart"]  # the cart is kept for later


def test_placements_per_address_are_limited_across_sessions(wine, limits):
    limits.ORDER_PLACEMENTS_PER_ADDRESS = 3
    for _ in range(3):
        assert checkout(Client(), wine).status_code == 302

    assert_refused(checkout(Client(), wine))
    assert checkout(Client(), wine, address="198.51.100.7").status_code == 302
    assert Order.objects.count() == 4


def test_placements_of_one_ipv6_64_share_one_counter(wine, limits):
    limits.ORDER_PLACEMENTS_PER_ADDRESS = 2
    for n in range(2):
        response = checkout(Client(), wine, address=f"2001:db8:aa:bb::{n + 1:x}")
        assert response.status_code == 302

    assert_refused(checkout(Client(), wine, address="2001:db8:aa:bb:1234::99"))
    assert checkout(Client(), wine, address="2001:db8:aa:bc::1").status_code == 302
    assert Order.objects.count() == 3


def test_placements_of_the_whole_shop_are_limited(wine, limits):
    limits.ORDER_PLACEMENTS_GLOBAL = 4
    for n in range(4):
        assert checkout(Client(), wine, address=f"192.0.2.{n + 1}").status_code == 302

    assert_refused(checkout(Client(), wine, address="198.51.100.7"))
    assert Order.objects.count() == 4


def test_unpaid_orders_per_email_are_capped_until_one_is_paid(wine, limits):
    limits.ORDER_OPEN_PER_EMAIL = 2
    victim = {"email": "Someone@Example.com"}
    for n in range(2):
        assert checkout(Client(), wine, address=f"192.0.2.{n + 1}", **victim).status_code == 302

    # Another session, another address, the same address in other letters: refused.
    response = checkout(Client(), wine, address="198.51.100.7", email="someone@example.COM")
    assert_refused(response)
    assert Order.objects.count() == 2
    assert checkout(Client(), wine, address="198.51.100.7").status_code == 302

    paid = Order.objects.filter(email="Someone@Example.com").first()
    minor = to_minor_units(paid.total, paid.currency)
    order_mark_paid(order_id=paid.pk, payment_intent="pi_1", amount_minor=minor, currency="eur")
    assert checkout(Client(), wine, address="198.51.100.8", **victim).status_code == 302


def test_unpaid_orders_per_address_and_per_session_are_capped(client, wine, limits):
    limits.ORDER_OPEN_PER_ADDRESS = 3
    limits.ORDER_OPEN_PER_SESSION = 2
    for n in range(2):
        assert checkout(client, wine, email=f"a{n}@example.com").status_code == 302
    assert_refused(checkout(client, wine, email="a3@example.com"))

    assert checkout(Client(), wine, email="b@example.com").status_code == 302
    assert_refused(checkout(Client(), wine, email="c@example.com"))
    assert checkout(Client(), wine, address="198.51.100.7").status_code == 302
    assert Order.objects.count() == 4
    assert all(order.placed_from for order in Order.objects.all())
    assert "203.0.113.9" not in {order.placed_from for order in Order.objects.all()}
