from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from core.money import to_minor_units
from coupons.tests.factories import CouponFactory
from orders.models import Order, OrderItem
from orders.services import Customer, order_mark_paid, order_place
from shop.delivery.models import DeliveryMethod
from shop.tests.factories import WineFactory, flat_zone

# Who the customer is and where the order goes.
CUSTOMER_FIELDS = {
    "first_name": "Camille",
    "last_name": "Rodríguez",
    "email": "camille@example.com",
    "phone": "+33 5 56 00 00 00",
    "address": "12 rue des Vignes",
    "postal_code": "33000",
    "city": "Bordeaux",
    "country": "FR",
}
# What a customer types into the checkout form: click & collect, which needs no shipping zone
# (with "delivery_method": "delivery", the test makes one: france_zone()).
CHECKOUT_FIELDS = {**CUSTOMER_FIELDS, "delivery_method": "collect", "age_confirmed": "on"}


def customer(**overrides) -> Customer:
    return Customer(**{**CUSTOMER_FIELDS, **overrides})


def france_zone(price: str = "0.00"):
    """Return the zone delivering to France, made if missing: free unless price says."""
    return flat_zone("France", price=price)


def place(**kwargs) -> Order:
    """Place an order as the checkout does, by default for customer() delivered to Bordeaux
    (free unless a zone "France" was made with a charge) with the age confirmed."""
    kwargs.setdefault("customer", customer())
    kwargs.setdefault("delivery_method", DeliveryMethod.DELIVERY)
    kwargs.setdefault("age_confirmed", True)
    if kwargs["delivery_method"] == DeliveryMethod.DELIVERY and kwargs["customer"].country == "FR":
        france_zone()
    return order_place(**kwargs)


def pay(order: Order) -> Order:
    """Record Stripe's word that the order was paid in full: it now owes its one email."""
    minor = to_minor_units(order.total, order.currency)
    intent = f"pi_{order.number}"
    order_mark_paid(order_id=order.pk, payment_intent=intent, amount_minor=minor, currency="eur")
    return order


class OrderFactory(DjangoModelFactory):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"WS-TEST-{n:04d}")
    first_name = "Camille"
    last_name = "Rodríguez"
    email = factory.Sequence(lambda n: f"buyer{n}@example.com")
    address = "12 rue des Vignes"
    postal_code = "33000"
    city = "Bordeaux"
    country = "FR"
    phone = "+33 5 56 00 00 00"
    currency = "EUR"
    total = Decimal("25.00")
    discount = Decimal("0.00")
    delivery_charge = Decimal("0.00")
    # What the total is made of, so that it adds up as the database requires.
    subtotal = factory.LazyAttribute(lambda o: o.total + o.discount - o.delivery_charge)
    vat_rate = Decimal("0.2000")


class OrderItemFactory(DjangoModelFactory):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    wine = None
    sku = factory.Sequence(lambda n: f"T-{n:06d}")
    wine_name = factory.Sequence(lambda n: f"Cuvée {n}")
    vintage = 2019
    unit_price = Decimal("12.50")
    quantity = 2
    line_total = Decimal("25.00")


def aged(order, minutes):
    """Make the order look placed minutes ago."""
    Order.objects.filter(pk=order.pk).update(created=timezone.now() - timedelta(minutes=minutes))


def paid_order(*lines: tuple[str | Decimal, int], percent_off: int | None = None) -> Order:
    """Place and pay an order of (unit price, bottles) lines, a wine each with 24 bottles in
    stock, with a coupon of percent_off if given."""
    wines = [(WineFactory(price=Decimal(price)), quantity) for price, quantity in lines]
    code = CouponFactory(percent_off=percent_off).code if percent_off else ""
    order = place(lines=[(wine.pk, quantity) for wine, quantity in wines], coupon_code=code)
    return pay(order)
