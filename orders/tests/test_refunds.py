from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from orders.exceptions import RefundNotAllowed, RefundTooLarge
from orders.models import Order, OrderEvent, OrderItem, Refund, RefundLine, RefundState
from orders.refunds import (
    RefundLineRequest,
    bottles_amount,
    order_cancel_refund,
    paid_shares,
    refund_allocate,
    refund_fail,
    refund_record_external,
    refund_request,
    refund_stripe_id_store,
    refund_succeed,
    split,
)
from orders.services import order_expire, order_ship
from orders.tests.factories import customer, france_zone, paid_order, place
from shop.models import Wine
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db

D = Decimal


def line(item: OrderItem, quantity: int, restock: bool = False) -> RefundLineRequest:
    return RefundLineRequest(item_id=item.pk, quantity=quantity, restock=restock)


def stock(item: OrderItem) -> int:
    return Wine.objects.get(pk=item.wine_id).stock


def fresh(order: Order) -> Order:
    return Order.objects.get(pk=order.pk)


def counts(item: OrderItem) -> tuple[int, int]:
    """The line's bottles refunded and restocked."""
    item.refresh_from_db()
    return item.refunded_quantity, item.restocked_quantity


def money(order: Order) -> tuple[Decimal, Decimal]:
    """The order's refunds committed and money refunded."""
    order = fresh(order)
    return order.refunds_committed, order.refunded_amount


def refund_of(order: Order, *lines: RefundLineRequest, amount=None) -> Refund:
    return refund_request(order_id=order.pk, lines=lines, amount=amount, reason="", actor=None)


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("clerk", "clerk@example.com", "pw")


# What a line gives back


def test_split_adds_up_to_the_whole_rounding_the_running_total():
    assert split(D("10.00"), [1, 1, 1]) == [D("3.33"), D("3.34"), D("3.33")]
    assert split(D("0.01"), [1, 1, 1]) == [D("0.00"), D("0.01"), D("0.00")]
    assert split(D("5.00"), [0, 0]) == [D("0.00"), D("0.00")]


@given(
    whole=st.decimals(min_value=0, max_value=100_000, places=2),
    weights=st.lists(st.decimals(min_value=0, max_value=10_000, places=2), min_size=1),
)
def test_split_parts_add_up_and_none_is_a_cent_over_its_proportion(whole, weights):
    parts = split(whole, weights)
    of = sum(weights)
    if not of:
        assert set(parts) == {D("0.00")}
        return
    assert sum(parts) == whole
    for part, weight in zip(parts, weights, strict=True):
        assert D(0) <= part < whole * weight / of + D("0.01")
        if whole <= of:
            assert part <= weight


def test_a_line_refunded_bottle_by_bottle_gives_back_exactly_its_share():
    amounts = [bottles_amount(share=D("10.00"), quantity=3, first=n, count=1) for n in range(3)]
    assert amounts == [D("3.33"), D("3.34"), D("3.33")]
    assert bottles_amount(share=D("10.00"), quantity=3, first=0, count=3) == D("10.00")


def test_each_line_bears_its_share_of_the_coupon():
    order = paid_order(("10.00", 1), ("20.00", 1), ("0.10", 1), percent_off=33)
    assert order.total == D("20.17")  # 30.10 less 9.93
    items = list(order.items.order_by("pk"))
    shares = paid_shares(items, total=order.total)
    # The running total is rounded: 6.70 (of 10.00), then 20.10 (of 30.00), then 20.17.
    assert [shares[item.pk] for item in items] == [D("6.70"), D("13.40"), D("0.07")]
    refund = refund_of(order, line(items[2], 1), line(items[0], 1))
    assert refund.amount == D("6.77")
    assert [(ln.item, ln.amount) for ln in refund.lines.order_by("item")] == [
        (items[0], D("6.70")),
        (items[2], D("0.07")),
    ]


@given(
    lines=st.lists(
        st.tuples(
            st.decimals(min_value=D("0.01"), max_value=300, places=2),
            st.integers(min_value=1, max_value=6),
        ),
        min_size=1,
        max_size=4,
    ),
    percent_off=st.none() | st.integers(min_value=1, max_value=100),
    steps=st.lists(st.integers(min_value=1, max_value=6), max_size=20),
)
def test_an_order_refunded_in_full_in_any_steps_gives_back_exactly_its_total(
    lines, percent_off, steps
):
    with transaction.atomic():
        order = paid_order(*lines, percent_off=percent_off)
        items = list(order.items.order_by("pk"))
        shares = paid_shares(items, total=order.total)
        steps = iter(steps)
        waiting: dict[int, int] = {}  # bottles worth no cent on their own, refunded with the next
        for item in items:
            left = item.quantity
            while left:
                count = min(next(steps, left), left)
                left -= count
                waiting[item.pk] = waiting.get(item.pk, 0) + count
                try:
                    refund = refund_of(
                        order,
                        *(RefundLineRequest(pk, quantity) for pk, quantity in waiting.items()),
                    )
                except RefundNotAllowed as error:
                    assert "Nothing was paid for these bottles" in str(error)
                    continue
                waiting = {}
                refund_succeed(refund_id=refund.pk)

        order = fresh(order)
        assert order.refunded_amount == order.refunds_committed == order.total
        refunded = RefundLine.objects.filter(refund__order=order).select_related("item")
        for refund_line in refunded:
            item = refund_line.item
            assert refund_line.amount <= item.unit_price * refund_line.quantity
        for item in items:
            assert sum(rl.amount for rl in refunded if rl.item == item) == shares[item.pk]
            assert shares[item.pk] <= item.line_total
        assert order.refund_state == (RefundState.FULL if order.total else RefundState.NONE)
        transaction.set_rollback(True)


# refund_request


def test_a_refund_is_written_pending_with_its_lines_taking_its_bottles_and_money(staff):
    order = paid_order(("12.50", 3))
    item = order.items.get()
    refund = refund_request(
        order_id=order.pk, lines=[line(item, 1, restock=True)], reason="corked", actor=staff
    )

    assert (refund.kind, refund.status, refund.amount) == (
        Refund.Kind.STAFF,
        Refund.Status.PENDING,
        D("12.50"),
    )
    assert (refund.reason, refund.created_by, refund.allocated) == ("corked", staff, True)
    assert [(ln.item, ln.quantity, ln.restock, ln.amount) for ln in refund.lines.all()] == [
        (item, 1, True, D("12.50"))
    ]
    assert money(order) == (D("12.50"), D("0.00"))
    assert fresh(order).refund_state == RefundState.NONE  # no money given back yet
    assert counts(item) == (1, 0)
    assert stock(item) == 21  # back on sale once Stripe gave the money back
    event = order.events.get(kind=OrderEvent.Kind.REFUND)
    assert event.actor == staff
    assert event.message == (
        f"Refund #{refund.pk} of €12.50 requested: 1 × {item.wine_name} (back on sale). "
        "Reason: corked"
    )


def test_a_shipped_order_is_refunded_too():
    order = paid_order(("12.50", 2))
    order_ship(order_id=order.pk)
    assert refund_of(order, line(order.items.get(), 2)).amount == D("25.00")


def test_an_unpaid_order_is_canceled_not_refunded():
    order = place(lines=[(WineFactory().pk, 2)], customer=customer())
    with pytest.raises(RefundNotAllowed, match="an unpaid order is canceled, not refunded"):
        refund_of(order, amount=D("5.00"))
    assert not Refund.objects.exists()
    assert money(order) == (0, 0)


@pytest.mark.parametrize("status", [Order.Status.CANCELED, Order.Status.REFUNDED])
def test_an_order_neither_paid_nor_shipped_is_not_refunded(status):
    order = paid_order(("12.50", 2))
    Order.objects.filter(pk=order.pk).update(status=status)
    with pytest.raises(RefundNotAllowed, match="it can't be refunded"):
        refund_of(order, line(order.items.get(), 1))
    assert not Refund.objects.exists()


def test_an_expired_order_is_not_refunded():
    order = place(lines=[(WineFactory().pk, 2)], customer=customer())
    order_expire(order_id=order.pk)
    with pytest.raises(RefundNotAllowed, match="is expired"):
        refund_of(order, amount=D("1.00"))


def test_no_more_bottles_are_refunded_than_are_left_on_the_line():
    order = paid_order(("10.00", 3))
    item = order.items.get()
    with pytest.raises(RefundTooLarge, match="Only 3 bottles of"):
        refund_of(order, line(item, 4))
    refund_of(order, line(item, 2))
    with pytest.raises(RefundTooLarge, match="Only 1 bottle of"):
        refund_of(order, line(item, 2))
    refund_of(order, line(item, 1))
    with pytest.raises(RefundTooLarge, match="is refunded already"):
        refund_of(order, line(item, 1))
    assert counts(item) == (3, 0)
    assert money(order) == (D("30.00"), D("0.00"))
    assert Refund.objects.count() == 2


@pytest.mark.parametrize(
    ("make_lines", "message"),
    [
        (lambda item, other: [line(other, 1)], "has no line"),
        (lambda item, other: [line(item, 1), line(item, 1)], "listed twice"),
        (lambda item, other: [line(item, 0)], "at least 1"),
        (lambda item, other: [], "Choose the bottles to refund, or an amount"),
    ],
)
def test_lines_not_of_the_order_twice_or_empty_are_refused(make_lines, message):
    order = paid_order(("10.00", 3))
    other = paid_order(("10.00", 3)).items.get()
    with pytest.raises(RefundNotAllowed, match=message):
        refund_of(order, *make_lines(order.items.get(), other))
    assert not Refund.objects.exists()
    assert money(order) == (0, 0)


def test_bottles_of_a_wine_gone_from_the_catalog_cannot_go_back_on_sale():
    order = paid_order(("10.00", 3))
    item = order.items.get()
    Wine.objects.filter(pk=item.wine_id).delete()
    with pytest.raises(RefundNotAllowed, match="no longer in the catalog"):
        refund_of(order, line(item, 1, restock=True))
    assert refund_of(order, line(item, 1)).amount == D("10.00")


def test_an_amount_alone_is_a_goodwill_refund_of_no_bottle():
    order = paid_order(("100.00", 3))
    refund = refund_of(order, amount=D("5"))
    assert (refund.amount, refund.lines.count()) == (D("5.00"), 0)
    assert money(order) == (D("5.00"), 0)
    assert order.items.get().refunded_quantity == 0
    assert "requested: no bottle." in order.events.get(kind=OrderEvent.Kind.REFUND).message


@pytest.mark.parametrize("amount", [D("0"), D("-1.00"), D("0.004")])
def test_an_amount_of_nothing_is_refused(amount):
    order = paid_order(("100.00", 3))
    with pytest.raises(RefundNotAllowed, match="must be more than 0"):
        refund_of(order, amount=amount)


def test_no_more_money_is_refunded_than_is_left():
    order = paid_order(("100.00", 3))
    with pytest.raises(RefundTooLarge, match=r"Only €300\.00 of order"):
        refund_of(order, amount=D("300.01"))
    refund_of(order, amount=D("20.00"))
    item = order.items.get()
    # The three bottles were paid 300.00; 280.00 is left.
    with pytest.raises(RefundTooLarge, match=r"Only €280\.00"):
        refund_of(order, line(item, 3))
    refund = refund_of(order, line(item, 3), amount=D("280.00"))
    assert [ln.amount for ln in refund.lines.all()] == [D("280.00")]
    with pytest.raises(RefundTooLarge, match="refunded in full already"):
        refund_of(order, amount=D("0.01"))
    assert money(order) == (D("300.00"), 0)


def test_an_amount_below_the_lines_value_is_split_over_them():
    order = paid_order(("10.00", 2), ("20.00", 1))
    first, second = order.items.order_by("pk")
    refund = refund_of(order, line(first, 2, restock=True), line(second, 1), amount=D("10.00"))
    assert refund.amount == D("10.00")
    assert [(ln.item, ln.amount) for ln in refund.lines.order_by("item")] == [
        (first, D("5.00")),
        (second, D("5.00")),
    ]


def test_an_amount_above_the_lines_value_gives_back_more_than_the_bottles():
    order = paid_order(("10.00", 2), ("20.00", 1))
    first = order.items.order_by("pk").first()
    refund = refund_of(order, line(first, 1), amount=D("15.00"))
    assert refund.amount == D("15.00")
    assert [ln.amount for ln in refund.lines.all()] == [D("10.00")]


# refund_succeed


def test_a_refund_succeeds_once_giving_the_money_back_and_restocking_what_was_asked():
    order = paid_order(("12.50", 3), ("20.00", 2))
    kept, broken = order.items.order_by("pk")
    refund = refund_of(order, line(kept, 2, restock=True), line(broken, 1))

    assert refund_succeed(refund_id=refund.pk, stripe_refund_id="re_1") is True

    refund.refresh_from_db()
    assert (refund.status, refund.stripe_refund_id) == (Refund.Status.SUCCEEDED, "re_1")
    assert refund.succeeded_at is not None
    assert money(order) == (D("45.00"), D("45.00"))
    assert (counts(kept), counts(broken)) == ((2, 2), (1, 0))
    assert (stock(kept), stock(broken)) == (21 + 2, 22)
    order = fresh(order)
    assert order.refund_state == RefundState.PARTIAL
    assert order.net_paid == D("32.50")
    assert order.events.filter(kind=OrderEvent.Kind.REFUND).last().message == (
        f"Refund #{refund.pk} of €45.00 succeeded (Stripe re_1); 2 bottles back in stock."
    )

    assert refund_succeed(refund_id=refund.pk, stripe_refund_id="re_1") is False
    assert money(order) == (D("45.00"), D("45.00"))
    assert (counts(kept), stock(kept)) == ((2, 2), 23)
    assert order.events.filter(kind=OrderEvent.Kind.REFUND).count() == 2


def test_the_whole_order_refunded_is_refunded_in_full():
    order = paid_order(("12.50", 3))
    refund = refund_of(order, line(order.items.get(), 3))
    refund_succeed(refund_id=refund.pk)
    order = fresh(order)
    assert (order.refund_state, order.net_paid, order.refundable_amount) == (
        RefundState.FULL,
        D("0.00"),
        D("0.00"),
    )
    assert order.status == Order.Status.PAID  # what is left to do with it is the staff's call


def test_a_failed_refund_stays_failed_and_staff_are_told_if_stripe_says_it_succeeded():
    order = paid_order(("12.50", 3))
    item = order.items.get()
    refund = refund_of(order, line(item, 1, restock=True))
    refund_fail(refund_id=refund.pk, reason="card closed")

    assert refund_succeed(refund_id=refund.pk, stripe_refund_id="re_1") is False

    refund.refresh_from_db()
    assert refund.status == Refund.Status.FAILED
    assert money(order) == (0, 0)
    assert (counts(item), stock(item)) == ((0, 0), 21)
    order = fresh(order)
    assert order.payment_flagged
    assert "succeeded after it had failed" in order.payment_flag_reason


def test_a_second_stripe_refund_for_one_of_ours_is_flagged_and_the_first_kept():
    order = paid_order(("12.50", 3))
    refund = refund_of(order, amount=D("1.00"))
    assert refund_stripe_id_store(refund_id=refund.pk, stripe_refund_id="re_1") is True
    assert refund_stripe_id_store(refund_id=refund.pk, stripe_refund_id="re_1") is False
    assert refund_succeed(refund_id=refund.pk, stripe_refund_id="re_2") is True
    refund.refresh_from_db()
    assert refund.stripe_refund_id == "re_1"
    assert "second refund (re_2)" in fresh(order).payment_flag_reason
    assert order.events.filter(message=f"Refund #{refund.pk} sent to Stripe (re_1).").count() == 1


def test_a_refund_of_a_wine_gone_from_the_catalog_succeeds_without_restocking():
    order = paid_order(("12.50", 3))
    item = order.items.get()
    refund = refund_of(order, line(item, 1, restock=True))
    Wine.objects.filter(pk=item.wine_id).delete()
    assert refund_succeed(refund_id=refund.pk) is True
    assert counts(item) == (1, 0)
    assert money(order) == (D("12.50"), D("12.50"))


# refund_fail


def test_a_failed_refund_gives_its_bottles_and_money_back_to_refund_once():
    order = paid_order(("12.50", 3))
    item = order.items.get()
    refund = refund_of(order, line(item, 3, restock=True))

    assert refund_fail(refund_id=refund.pk, reason="card closed", stripe_refund_id="re_1") is True

    refund.refresh_from_db()
    assert (refund.status, refund.failure_reason, refund.stripe_refund_id) == (
        Refund.Status.FAILED,
        "card closed",
        "re_1",
    )
    assert refund.failed_at is not None
    assert money(order) == (0, 0)
    assert (counts(item), stock(item)) == ((0, 0), 21)
    assert refund_fail(refund_id=refund.pk, reason="again") is False
    assert money(order) == (0, 0)
    assert order.events.filter(kind=OrderEvent.Kind.REFUND).last().message == (
        f"Refund #{refund.pk} of €37.50 failed: card closed. Nothing was given back."
    )
    # The same bottles can be refunded again.
    assert refund_of(order, line(item, 3)).amount == D("37.50")


def test_a_refund_failing_after_it_succeeded_stays_succeeded_and_staff_are_told():
    order = paid_order(("12.50", 3))
    refund = refund_of(order, amount=D("5.00"))
    refund_succeed(refund_id=refund.pk)
    assert refund_fail(refund_id=refund.pk, reason="bank refused") is False
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert money(order) == (D("5.00"), D("5.00"))
    assert "failed after it had succeeded (bank refused)" in fresh(order).payment_flag_reason


# refund_record_external


def test_a_refund_made_in_stripe_is_recorded_once_and_flagged_for_staff(
    request, django_capture_on_commit_callbacks
):
    from orders.signals import refund_succeeded

    told = []
    refund_succeeded.connect(
        lambda sender, *, refund_id, **kwargs: told.append(refund_id),
        dispatch_uid=request.node.name,
        weak=False,
    )
    request.addfinalizer(lambda: refund_succeeded.disconnect(dispatch_uid=request.node.name))
    order = paid_order(("100.00", 3))
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_record_external(
            order_id=order.pk, stripe_refund_id="re_ext", amount=D("5"), reason="gesture"
        )
        again = refund_record_external(order_id=order.pk, stripe_refund_id="re_ext", amount=D("5"))

    assert again is None
    assert told == [refund.pk]  # a credit note is owed for it
    assert (refund.kind, refund.status, refund.allocated, refund.amount) == (
        Refund.Kind.EXTERNAL,
        Refund.Status.SUCCEEDED,
        False,
        D("5.00"),
    )
    assert refund.succeeded_at is not None and refund.lines.count() == 0
    assert money(order) == (D("5.00"), D("5.00"))
    order = fresh(order)
    assert order.refund_state == RefundState.PARTIAL
    assert order.payment_flagged and "allocate it to lines" in order.payment_flag_reason
    assert Refund.objects.count() == 1


def test_a_refund_made_in_stripe_past_what_is_left_is_refused_and_nothing_written():
    order = paid_order(("10.00", 1))
    refund_of(order, amount=D("8.00"))
    with pytest.raises(RefundTooLarge, match=r"€2\.00 left to refund"):
        refund_record_external(order_id=order.pk, stripe_refund_id="re_ext", amount=D("3.00"))
    assert Refund.objects.count() == 1
    assert money(order) == (D("8.00"), 0)


def test_a_stripe_refund_of_ours_is_not_recorded_again_as_made_in_stripe():
    order = paid_order(("10.00", 1))
    refund = refund_of(order, amount=D("8.00"))
    refund_succeed(refund_id=refund.pk, stripe_refund_id="re_ours")
    assert (
        refund_record_external(order_id=order.pk, stripe_refund_id="re_ours", amount=D("8.00"))
        is None
    )
    assert money(order) == (D("8.00"), D("8.00"))


def test_a_refund_made_in_stripe_of_an_order_never_paid_is_refused():
    order = place(lines=[(WineFactory().pk, 1)], customer=customer())
    with pytest.raises(RefundNotAllowed, match="never paid"):
        refund_record_external(order_id=order.pk, stripe_refund_id="re_x", amount=D("1.00"))
    with pytest.raises(RefundNotAllowed, match="its Stripe id"):
        refund_record_external(order_id=order.pk, stripe_refund_id="", amount=D("1.00"))


# refund_allocate


def test_staff_allocate_a_refund_made_in_stripe_once(staff):
    order = paid_order(("12.50", 3), ("20.00", 1))
    kept, broken = order.items.order_by("pk")
    refund = refund_record_external(order_id=order.pk, stripe_refund_id="re_1", amount=D("32.50"))

    refund_allocate(
        refund_id=refund.pk, lines=[line(kept, 1, restock=True), line(broken, 1)], actor=staff
    )

    refund.refresh_from_db()
    assert refund.allocated
    assert sorted(
        (ln.item_id, ln.quantity, ln.restock, ln.amount) for ln in refund.lines.all()
    ) == [
        (kept.pk, 1, True, D("12.50")),
        (broken.pk, 1, False, D("20.00")),
    ]
    assert (counts(kept), counts(broken)) == ((1, 1), (1, 0))
    assert (stock(kept), stock(broken)) == (22, 23)
    assert money(order) == (D("32.50"), D("32.50"))
    event = order.events.filter(kind=OrderEvent.Kind.REFUND).last()
    assert event.actor == staff and "1 bottle back in stock" in event.message

    with pytest.raises(RefundNotAllowed, match="allocated to lines already"):
        refund_allocate(refund_id=refund.pk, lines=[line(kept, 1, restock=True)], actor=staff)
    assert (counts(kept), stock(kept)) == ((1, 1), 22)


def test_lines_worth_more_than_a_refund_made_in_stripe_share_its_amount():
    order = paid_order(("12.50", 3))
    item = order.items.get()
    refund = refund_record_external(order_id=order.pk, stripe_refund_id="re_1", amount=D("20"))
    refund_allocate(refund_id=refund.pk, lines=[line(item, 2, restock=True)], actor=None)
    assert [ln.amount for ln in refund.lines.all()] == [D("20.00")]
    assert counts(item) == (2, 2)
    # The last bottle is refunded for what is left of its share.
    assert refund_of(order, line(item, 1)).amount == D("12.50")


def test_a_refund_made_in_stripe_may_be_for_no_bottle():
    order = paid_order(("12.50", 3))
    refund = refund_record_external(order_id=order.pk, stripe_refund_id="re_1", amount=D("2"))
    refund_allocate(refund_id=refund.pk, lines=[], actor=None)
    refund.refresh_from_db()
    assert refund.allocated and not refund.lines.exists()


def test_allocating_more_bottles_than_are_left_is_refused_and_nothing_changes():
    order = paid_order(("12.50", 3))
    item = order.items.get()
    refund_of(order, line(item, 2))
    refund = refund_record_external(order_id=order.pk, stripe_refund_id="re_1", amount=D("5"))
    with pytest.raises(RefundTooLarge, match="Only 1 bottle"):
        refund_allocate(refund_id=refund.pk, lines=[line(item, 2, restock=True)], actor=None)
    refund.refresh_from_db()
    assert not refund.allocated
    assert (counts(item), stock(item)) == ((2, 0), 21)


def test_a_refund_started_in_the_admin_is_not_allocated_again():
    order = paid_order(("12.50", 3))
    refund = refund_of(order, amount=D("1.00"))
    with pytest.raises(RefundNotAllowed, match="started with its lines"):
        refund_allocate(refund_id=refund.pk, lines=[line(order.items.get(), 1)], actor=None)


# A paid order canceled


def test_canceling_a_paid_order_refunds_all_that_is_left_and_cancels_it_when_it_succeeds(staff):
    order = paid_order(("12.50", 3), ("20.00", 2), percent_off=10)
    kept, broken = order.items.order_by("pk")
    goodwill = refund_of(order, amount=D("5.00"))
    refund_succeed(refund_id=goodwill.pk)
    earlier = refund_of(order, line(kept, 1, restock=True))
    refund_succeed(refund_id=earlier.pk)
    left = order.total - fresh(order).refunds_committed

    refund = order_cancel_refund(
        order_id=order.pk, restock={kept.pk: True}, reason="customer moved", actor=staff
    )

    assert (refund.status, refund.amount, refund.cancels_order) == (
        Refund.Status.PENDING,
        left,
        True,
    )
    assert [(ln.item, ln.quantity, ln.restock) for ln in refund.lines.all()] == [
        (kept, 2, True),
        (broken, 2, False),
    ]
    assert fresh(order).status == Order.Status.PAID  # until Stripe gave the money back
    assert fresh(order).refundable_amount == D("0.00")

    refund_succeed(refund_id=refund.pk, stripe_refund_id="re_cancel")

    order = fresh(order)
    assert (order.status, order.refund_state, order.net_paid) == (
        Order.Status.CANCELED,
        RefundState.FULL,
        D("0.00"),
    )
    assert order.canceled_at is not None
    assert (counts(kept), counts(broken)) == ((3, 3), (2, 0))
    assert (stock(kept), stock(broken)) == (24, 22)  # each bottle back on sale once
    event = order.events.get(kind=OrderEvent.Kind.STATUS, to_status=Order.Status.CANCELED)
    assert (event.from_status, event.actor) == (Order.Status.PAID, staff)

    assert refund_succeed(refund_id=refund.pk, stripe_refund_id="re_cancel") is False
    assert order.events.filter(to_status=Order.Status.CANCELED).count() == 1


def test_a_paid_order_whose_cancel_refund_failed_stays_paid_and_may_be_canceled_again(staff):
    order = paid_order(("12.50", 2))
    refund = order_cancel_refund(order_id=order.pk, restock={}, reason="", actor=staff)
    refund_fail(refund_id=refund.pk, reason="card closed")
    assert fresh(order).status == Order.Status.PAID

    again = order_cancel_refund(order_id=order.pk, restock={}, reason="", actor=staff)
    assert again.amount == D("25.00")


def test_a_paid_order_is_canceled_once_while_its_refund_is_under_way(staff):
    order = paid_order(("12.50", 2))
    order_cancel_refund(order_id=order.pk, restock={}, reason="", actor=staff)
    with pytest.raises(RefundNotAllowed, match="nothing left to refund"):
        order_cancel_refund(order_id=order.pk, restock={}, reason="", actor=staff)
    assert Refund.objects.filter(order=order).count() == 1


def test_an_order_shipped_before_its_cancel_refund_succeeded_stays_shipped_and_is_flagged(staff):
    order = paid_order(("12.50", 2))
    refund = order_cancel_refund(order_id=order.pk, restock={}, reason="", actor=staff)
    order_ship(order_id=order.pk)
    refund_succeed(refund_id=refund.pk)
    order = fresh(order)
    assert (order.status, order.payment_flagged) == (Order.Status.SHIPPED, True)


@pytest.mark.parametrize("status", [Order.Status.PENDING, Order.Status.SHIPPED])
def test_only_a_paid_order_not_yet_shipped_is_canceled_and_refunded(staff, status):
    order = paid_order(("12.50", 2))
    Order.objects.filter(pk=order.pk).update(status=status)
    with pytest.raises(RefundNotAllowed, match="only a paid order not yet shipped"):
        order_cancel_refund(order_id=order.pk, restock={}, reason="", actor=staff)
    assert not Refund.objects.exists()


def test_canceling_with_lines_of_another_order_changes_nothing(staff):
    order, other = paid_order(("12.50", 2)), paid_order(("9.00", 1))
    with pytest.raises(RefundNotAllowed, match="no such line"):
        order_cancel_refund(
            order_id=order.pk, restock={other.items.get().pk: True}, reason="", actor=staff
        )
    assert not Refund.objects.exists()
    assert fresh(order).refunds_committed == D("0.00")


def test_a_canceled_paid_order_refunds_its_delivery_too(staff):
    france_zone(price="9.90")
    order = paid_order(("12.50", 3), ("7.35", 1), percent_off=33)
    assert order.delivery_charge == D("9.90")

    refund = order_cancel_refund(
        order_id=order.pk,
        restock={item.pk: True for item in order.items.all()},
        reason="customer moved",
        actor=staff,
    )
    refund_succeed(refund_id=refund.pk)

    assert refund.amount == order.total
    assert (fresh(order).refunded_amount, fresh(order).status) == (order.total, "canceled")


def test_refunding_every_bottle_leaves_the_delivery_for_a_goodwill_refund(staff):
    france_zone(price="9.90")
    order = paid_order(("12.50", 3), ("7.35", 1), percent_off=33)
    bottles = refund_of(order, *(line(item, item.quantity) for item in order.items.all()))
    refund_succeed(refund_id=bottles.pk)

    assert bottles.amount == order.total - D("9.90") == order.subtotal - order.discount
    assert fresh(order).refundable_amount == D("9.90")
    delivery = refund_of(order, amount=D("9.90"))
    refund_succeed(refund_id=delivery.pk)
    assert fresh(order).refunded_amount == order.total
