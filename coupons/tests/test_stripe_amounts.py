"""What Stripe charges for a discounted order is its total, to the cent."""

from decimal import Decimal

import pytest

from core.money import to_minor_units
from coupons.tests.factories import CouponFactory
from orders.models import Order
from orders.services import order_place
from orders.tests.factories import customer
from payments.stripe_client import create_checkout_session
from payments.tests.sandbox import running_sandbox
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db

AWKWARD = [
    # (unit prices and quantities, percent off, total to pay)
    ([("9.99", 3)], 33, "20.08"),
    ([("0.99", 7), ("12.34", 1)], 15, "16.38"),
    ([("19.99", 1)], 50, "9.99"),
    ([("13.37", 2), ("7.77", 3)], 7, "46.55"),
    ([("83.33", 12)], 99, "10.00"),
    ([("0.05", 1)], 10, "0.04"),
    ([("4.99", 3), ("5.01", 3), ("0.01", 1)], 1, "29.71"),
    ([("33.33", 3)], 1, "98.99"),
]


@pytest.fixture
def sandbox(settings):
    with running_sandbox(settings) as server:
        yield server


@pytest.mark.parametrize(("lines", "percent", "total"), AWKWARD)
def test_stripe_charges_exactly_the_order_total(sandbox, lines, percent, total):
    wines = [WineFactory(price=price, stock=50) for price, _ in lines]
    CouponFactory(code="AWKWARD", percent_off=percent)
    order = order_place(
        lines=[(wine.pk, qty) for wine, (_, qty) in zip(wines, lines, strict=True)],
        customer=customer(),
        coupon_code="awkward",
    )
    assert order.total == Decimal(total)
    assert order.subtotal - order.discount == order.total

    session = create_checkout_session(
        order=order, success_url="http://shop.test/ok", cancel_url="http://shop.test/no"
    )

    assert session.amount_total == to_minor_units(order.total, "eur")
    assert session.total_details.amount_discount == to_minor_units(order.discount, "eur")
    assert session.amount_subtotal == to_minor_units(order.subtotal, "eur")


def test_an_order_without_coupon_sends_no_discount(sandbox):
    wine = WineFactory(price="12.50", stock=5)
    order = order_place(lines=[(wine.pk, 2)], customer=customer())
    session = create_checkout_session(
        order=order, success_url="http://shop.test/ok", cancel_url="http://shop.test/no"
    )
    assert session.amount_total == 2500
    assert session.total_details.amount_discount == 0


def test_a_coupon_covering_the_whole_order_needs_no_payment():
    wine = WineFactory(price="18.00", stock=5)
    CouponFactory(code="GIFT", percent_off=100)

    order = order_place(lines=[(wine.pk, 1)], customer=customer(), coupon_code="GIFT")

    order.refresh_from_db()
    assert (order.total, order.status) == (Decimal("0.00"), Order.Status.PAID)
    assert order.events.filter(message__contains="nothing to charge").exists()
