from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import translation

from orders.models import Order, OrderItem, Refund, RefundLine, RefundState
from orders.tests.factories import OrderFactory, OrderItemFactory

pytestmark = pytest.mark.django_db

D = Decimal


def refused(queryset, **changes) -> bool:
    """Whether the database refuses the update."""
    try:
        with transaction.atomic():
            queryset.update(**changes)
    except IntegrityError:
        return True
    return False


def test_an_order_never_has_more_refunds_than_its_total():
    order = OrderFactory(total=D("25.00"))
    orders = Order.objects.filter(pk=order.pk)
    assert refused(orders, refunds_committed=D("25.01"))
    assert refused(orders, refunds_committed=D("-0.01"))
    assert not refused(orders, refunds_committed=D("25.00"))


def test_an_order_never_counts_more_money_refunded_than_its_refunds_committed():
    order = OrderFactory(total=D("25.00"), refunds_committed=D("10.00"))
    orders = Order.objects.filter(pk=order.pk)
    assert refused(orders, refunded_amount=D("10.01"))
    assert refused(orders, refunded_amount=D("-1.00"))
    assert not refused(orders, refunded_amount=D("10.00"))
    # Giving back a refund's money commitment below what was refunded is refused too.
    assert refused(orders, refunds_committed=F("refunds_committed") - D("0.01"))


def test_a_line_never_has_more_bottles_refunded_than_sold_nor_restocked_than_refunded():
    item = OrderItemFactory(quantity=2)
    items = OrderItem.objects.filter(pk=item.pk)
    assert refused(items, refunded_quantity=3)
    assert refused(items, restocked_quantity=1)  # none refunded yet
    assert not refused(items, refunded_quantity=2)
    assert not refused(items, restocked_quantity=2)
    assert refused(items, refunded_quantity=1)  # two went back on sale


def test_a_refund_gives_back_some_money():
    refund = Refund.objects.create(order=OrderFactory(), amount=D("1.00"))
    assert refused(Refund.objects.filter(pk=refund.pk), amount=D("0.00"))


def test_a_stripe_refund_is_one_refund_of_ours_and_refunds_without_one_are_many():
    order = OrderFactory()
    Refund.objects.create(order=order, amount=D("1.00"), stripe_refund_id="re_1")
    second = Refund.objects.create(order=order, amount=D("1.00"))
    Refund.objects.create(order=order, amount=D("1.00"))
    assert refused(Refund.objects.filter(pk=second.pk), stripe_refund_id="re_1")


def test_only_a_refund_made_in_stripe_waits_to_be_allocated():
    refund = Refund.objects.create(order=OrderFactory(), amount=D("1.00"))
    assert refused(Refund.objects.filter(pk=refund.pk), allocated=False)
    refunds = Refund.objects.filter(pk=refund.pk)
    assert not refused(refunds, kind=Refund.Kind.EXTERNAL, allocated=False)


def test_a_refund_lists_a_line_once_with_at_least_a_bottle():
    item = OrderItemFactory()
    refund = Refund.objects.create(order=item.order, amount=D("1.00"))
    refund_line = RefundLine.objects.create(refund=refund, item=item, quantity=1, amount=D("1"))
    lines = RefundLine.objects.filter(pk=refund_line.pk)
    assert refused(lines, quantity=0)
    assert refused(lines, amount=D("-0.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        RefundLine.objects.create(refund=refund, item=item, quantity=1, amount=D("1"))


def test_an_order_with_refunds_is_not_deleted():
    from django.db.models import ProtectedError

    refund = Refund.objects.create(order=OrderFactory(), amount=D("1.00"))
    with pytest.raises(ProtectedError):
        refund.order.delete()


@pytest.mark.parametrize(
    ("refunded", "state", "net"),
    [
        ("0.00", RefundState.NONE, "25.00"),
        ("0.01", RefundState.PARTIAL, "24.99"),
        ("24.99", RefundState.PARTIAL, "0.01"),
        ("25.00", RefundState.FULL, "0.00"),
    ],
)
def test_an_order_says_how_much_of_its_money_was_given_back(refunded, state, net):
    order = OrderFactory.build(
        total=D("25.00"),
        paid_at="2026-11-26T10:00:00Z",
        refunds_committed=D("25.00"),
        refunded_amount=D(refunded),
    )
    assert (order.refund_state, order.net_paid) == (state, D(net))
    assert order.amount_paid == D("25.00")
    assert order.refundable_amount == D("0.00")


def test_an_unpaid_order_was_paid_nothing_and_has_nothing_to_refund():
    order = OrderFactory.build(total=D("25.00"))
    assert (order.amount_paid, order.net_paid, order.refundable_amount) == (0, 0, 0)
    assert order.refund_state == RefundState.NONE


def test_a_line_says_how_many_bottles_are_left_to_refund():
    assert OrderItemFactory.build(quantity=3, refunded_quantity=1).refundable_quantity == 2


@pytest.mark.parametrize(
    ("country", "language", "name"),
    [("DE", "en", "Germany"), ("DE", "fr", "Allemagne"), ("", "en", ""), ("ZZ", "en", "ZZ")],
)
def test_an_order_names_its_country_as_the_field_s_choices_do(country, language, name):
    order = Order(country=country)
    with translation.override(language):
        field = Order._meta.get_field("country")
        # What Django's own get_country_display would say, from the field's choices.
        expected = str(dict(field.flatchoices).get(country, country))
        assert order.get_country_display() == expected == name
