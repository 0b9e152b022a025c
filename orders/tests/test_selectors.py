from decimal import Decimal

import pytest

from orders.exceptions import RefundTooLarge
from orders.models import Order, RefundState
from orders.refunds import RefundLineRequest, refund_fail, refund_request, refund_succeed
from orders.selectors import (
    EXPORT_CHUNK,
    order_export_rows,
    order_refund_state_filter,
    refund_get,
    refund_list,
    refund_of_stripe,
    refund_quote,
    refund_refundable_quantities,
)
from orders.tests.factories import OrderFactory, OrderItemFactory, paid_order

pytestmark = pytest.mark.django_db


def test_export_rows_read_orders_in_chunks(django_assert_num_queries):
    for order in OrderFactory.create_batch(EXPORT_CHUNK + 1):
        OrderItemFactory(order=order)
    with django_assert_num_queries(3):  # the orders, then the items of each chunk of orders
        rows = list(order_export_rows(Order.objects.all()))
    assert len(rows) == EXPORT_CHUNK + 1


def test_orders_are_found_by_how_much_of_their_money_was_given_back():
    none, partial, full = (OrderFactory(total=Decimal("25.00")) for _ in range(3))
    Order.objects.filter(pk=partial.pk).update(refunds_committed=10, refunded_amount=10)
    Order.objects.filter(pk=full.pk).update(refunds_committed=25, refunded_amount=25)
    for state, order in [
        (RefundState.NONE, none),
        (RefundState.PARTIAL, partial),
        (RefundState.FULL, full),
    ]:
        found = list(order_refund_state_filter(Order.objects.all(), state=state))
        assert found == [order]
        assert found[0].refund_state == state


def test_a_refund_is_read_with_its_order_and_lines(django_assert_num_queries):
    order = paid_order(("12.50", 3))
    item = order.items.get()
    refund = refund_request(
        order_id=order.pk, lines=[RefundLineRequest(item.pk, 2)], reason="", actor=None
    )
    with django_assert_num_queries(3):  # the refund and its order, its lines, their order lines
        read = refund_get(refund_id=refund.pk)
        assert read.order.number == order.number
        assert [(ln.item.wine_name, ln.quantity) for ln in read.lines.all()] == [
            (item.wine_name, 2)
        ]
    assert refund_get(refund_id=refund.pk + 1) is None
    assert refund_list(order_id=order.pk) == [refund]


def test_a_refund_is_found_by_its_stripe_id_and_none_by_no_id():
    order = paid_order(("12.50", 3))
    refund = refund_request(order_id=order.pk, amount=Decimal(1), reason="", actor=None)
    refund_request(order_id=order.pk, amount=Decimal(1), reason="", actor=None)  # no Stripe id
    refund_succeed(refund_id=refund.pk, stripe_refund_id="re_1")
    assert refund_of_stripe(stripe_refund_id="re_1") == refund
    assert refund_of_stripe(stripe_refund_id="re_2") is None
    assert refund_of_stripe(stripe_refund_id="") is None


def test_the_bottles_left_to_refund_on_each_line():
    order = paid_order(("12.50", 3), ("20.00", 1))
    first, second = order.items.order_by("pk")
    refund = refund_request(
        order_id=order.pk, lines=[RefundLineRequest(first.pk, 2)], reason="", actor=None
    )
    assert refund_refundable_quantities(order_id=order.pk) == {first.pk: 1, second.pk: 1}
    refund_fail(refund_id=refund.pk, reason="declined")
    assert refund_refundable_quantities(order_id=order.pk) == {first.pk: 3, second.pk: 1}


def test_a_quote_is_what_the_refund_gives_back():
    order = paid_order(("10.00", 3), ("20.00", 1), percent_off=10)
    first, second = order.items.order_by("pk")
    lines = [RefundLineRequest(first.pk, 1), RefundLineRequest(second.pk, 1, restock=True)]
    amount, priced = refund_quote(order_id=order.pk, lines=lines)
    assert (amount, [line.amount for line in priced]) == (Decimal("27.00"), [9, 18])
    refund = refund_request(order_id=order.pk, lines=lines, reason="", actor=None)
    assert refund.amount == amount
    assert [line.amount for line in refund.lines.order_by("item")] == [9, 18]
    with pytest.raises(RefundTooLarge):
        refund_quote(order_id=order.pk, lines=[RefundLineRequest(second.pk, 1)])


def test_an_order_adds_up_as_every_page_and_email_shows_it():
    from coupons.tests.factories import CouponFactory
    from orders.selectors import order_totals
    from orders.tests.factories import france_zone, place
    from shop.tests.factories import WineFactory

    france_zone(price="9.90")
    CouponFactory(code="WELCOME10", percent_off=10)
    wine = WineFactory(stock=10, price=Decimal("24.90"))
    order = place(lines=[(wine.pk, 3)], coupon_code="WELCOME10")

    shown = [(line.kind, line.label, line.amount) for line in order_totals(order)]

    assert shown == [
        ("subtotal", "Wine", Decimal("74.70")),
        ("discount", "Coupon WELCOME10", Decimal("-7.47")),
        ("delivery", "Delivery to France (France)", Decimal("9.90")),
        ("total", "Total", Decimal("77.13")),
        ("vat", "incl. VAT 20 %", Decimal("12.86")),  # 11.21 on the wine, 1.65 on delivery
    ]
