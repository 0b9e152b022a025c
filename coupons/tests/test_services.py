import re
from decimal import Decimal

import pytest

from core.codes import ALPHABET
from core.money import to_minor_units
from coupons.exceptions import CouponNotValid
from coupons.models import Coupon, CouponBatch, CouponRedemption
from coupons.services import (
    coupon_batch_create,
    coupon_batch_generate,
    coupon_batch_rename,
    coupon_code_min_length,
    coupon_redeem,
    coupon_release,
    coupon_save,
)
from coupons.tests.factories import CouponFactory
from orders.exceptions import InvalidTransition
from orders.models import Order
from orders.services import order_cancel, order_expire, order_mark_paid
from orders.tests.factories import OrderFactory, customer, place
from payments.stripe_client import create_checkout_session
from payments.tests.sandbox import running_sandbox
from shop.models import Wine
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db


def test_redeeming_takes_a_use_and_records_the_discount_leaving_the_order_to_orders():
    coupon = CouponFactory(code="THIRD", percent_off=33, max_uses=5)
    order = OrderFactory(subtotal=Decimal("29.97"), total=Decimal("29.97"))

    redemption = coupon_redeem(code=" third ", order_id=order.pk, subtotal=Decimal("29.97"))

    assert (redemption.coupon, redemption.order_id) == (coupon, order.pk)
    assert (redemption.percent_off, redemption.discount) == (33, Decimal("9.89"))
    assert Coupon.objects.get().uses == 1
    order.refresh_from_db()
    assert (order.coupon_code, order.discount, order.total) == ("", Decimal("0"), Decimal("29.97"))


def test_redeeming_a_used_up_code_says_why_and_takes_nothing():
    CouponFactory(code="LAST", max_uses=1, uses=1)
    order = OrderFactory()

    with pytest.raises(CouponNotValid, match="usage limit"):
        coupon_redeem(code="LAST", order_id=order.pk, subtotal=Decimal("10.00"))

    assert Coupon.objects.get().uses == 1
    assert not CouponRedemption.objects.exists()


def test_releasing_gives_the_use_back_once_and_returns_the_redemption():
    CouponFactory(code="BACK", max_uses=1)
    order = OrderFactory()
    coupon_redeem(code="BACK", order_id=order.pk, subtotal=Decimal("10.00"))

    released = coupon_release(order_id=order.pk)

    assert released.coupon.code == "BACK" and released.released_at is not None
    assert Coupon.objects.get().uses == 0
    assert coupon_release(order_id=order.pk) is None
    assert coupon_release(order_id=OrderFactory().pk) is None  # no coupon at all
    assert Coupon.objects.get().uses == 0


def test_order_with_a_coupon_is_discounted_and_takes_one_use():
    wine = WineFactory(price="9.99", stock=10)
    coupon = CouponFactory(code="THIRD", percent_off=33, max_uses=5)

    order = place(lines=[(wine.pk, 3)], customer=customer(), coupon_code=" third ")

    assert (order.subtotal, order.discount, order.total) == (
        Decimal("29.97"),
        Decimal("9.89"),
        Decimal("20.08"),
    )
    assert order.coupon_code == "THIRD"
    coupon.refresh_from_db()
    assert coupon.uses == 1
    redemption = CouponRedemption.objects.get()
    assert (redemption.order, redemption.percent_off, redemption.discount) == (
        order,
        33,
        Decimal("9.89"),
    )
    assert "with coupon THIRD" in order.events.get(kind="placed").message


def test_a_used_up_coupon_refuses_the_order_and_writes_nothing():
    wine = WineFactory(stock=10)
    CouponFactory(code="LAST", max_uses=1, uses=1)

    with pytest.raises(CouponNotValid, match="usage limit"):
        place(lines=[(wine.pk, 2)], customer=customer(), coupon_code="LAST")

    assert Order.objects.count() == 0
    assert Wine.objects.get(pk=wine.pk).stock == 10
    assert Coupon.objects.get().uses == 1


def test_expected_total_is_the_discounted_total():
    wine = WineFactory(price="20.00", stock=10)
    CouponFactory(code="TEN", percent_off=10)
    order = place(
        lines=[(wine.pk, 1)], customer=customer(), coupon_code="TEN", expected_total="18.00"
    )
    assert order.total == Decimal("18.00")


def _order_with(coupon) -> Order:
    wine = WineFactory(price="15.00", stock=10)
    return place(lines=[(wine.pk, 2)], customer=customer(), coupon_code=coupon.code)


def test_expiring_an_unpaid_order_gives_the_use_back_exactly_once():
    coupon = CouponFactory(max_uses=2)
    order = _order_with(coupon)
    assert Coupon.objects.get().uses == 1

    order_expire(order_id=order.pk)
    order.refresh_from_db()

    assert Coupon.objects.get().uses == 0
    assert coupon_release(order_id=order.pk) is None  # a second release gives nothing back
    assert Coupon.objects.get().uses == 0
    assert CouponRedemption.objects.get().released_at is not None
    given_back = order.events.filter(message__contains="use was given back")
    assert [e.message for e in given_back] == [f"Coupon {coupon.code}: its use was given back."]


def test_canceling_an_unpaid_order_gives_the_use_back():
    coupon = CouponFactory(max_uses=1)
    order = _order_with(coupon)
    order_cancel(order_id=order.pk)
    assert Coupon.objects.get().uses == 0
    # The use can be taken again by the next customer.
    _order_with(coupon)
    assert Coupon.objects.get().uses == 1


def test_canceling_a_paid_order_keeps_the_use():
    coupon = CouponFactory(max_uses=1)
    order = _order_with(coupon)
    order_mark_paid(
        order_id=order.pk,
        payment_intent="pi_1",
        amount_minor=to_minor_units(order.total, "eur"),
        currency="eur",
    )
    with pytest.raises(InvalidTransition):  # a paid order is refunded, not canceled
        order_cancel(order_id=order.pk)
    assert Coupon.objects.get().uses == 1
    assert CouponRedemption.objects.get().released_at is None


def test_saving_a_coupon_read_before_a_use_keeps_the_use():
    coupon = CouponFactory(code="STALE", percent_off=10, max_uses=3)
    edited = Coupon.objects.get(pk=coupon.pk)  # what the merchant's form loaded
    place(lines=[(WineFactory(stock=5).pk, 1)], customer=customer(), coupon_code="STALE")
    edited.percent_off = 20
    coupon_save(coupon=edited, fields=["percent_off"])
    coupon.refresh_from_db()
    assert (coupon.percent_off, coupon.uses) == (20, 1)
    assert edited.uses == 1


def test_a_limit_lowered_below_uses_taken_meanwhile_uses_the_coupon_up():
    coupon = CouponFactory(code="LOWER", max_uses=3)
    edited = Coupon.objects.get(pk=coupon.pk)
    for _ in range(2):
        place(lines=[(WineFactory(stock=5).pk, 1)], customer=customer(), coupon_code="LOWER")
    edited.max_uses = 1  # the form allowed it: it saw no use
    coupon_save(coupon=edited, fields=["max_uses"])
    coupon.refresh_from_db()
    assert (coupon.max_uses, coupon.uses) == (2, 2)


# What Stripe charges for a discounted order is its total, to the cent.
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
    order = place(
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
    order = place(lines=[(wine.pk, 2)], customer=customer())
    session = create_checkout_session(
        order=order, success_url="http://shop.test/ok", cancel_url="http://shop.test/no"
    )
    assert session.amount_total == 2500
    assert session.total_details.amount_discount == 0


def test_a_coupon_covering_the_whole_order_needs_no_payment():
    wine = WineFactory(price="18.00", stock=5)
    CouponFactory(code="GIFT", percent_off=100)

    order = place(lines=[(wine.pk, 1)], customer=customer(), coupon_code="GIFT")

    order.refresh_from_db()
    assert (order.total, order.status) == (Decimal("0.00"), Order.Status.PAID)
    assert order.events.filter(message__contains="nothing to charge").exists()


def test_a_batch_makes_unique_codes_of_the_alphabet_with_its_prefix():
    batch = coupon_batch_create(
        name="Spring", count=1_500, percent_off=15, prefix="spr-", code_length=8
    )

    codes = list(batch.coupons.values_list("code", flat=True))
    assert batch.status == CouponBatch.Status.DONE
    assert batch.generated == len(codes) == len(set(codes)) == 1_500
    pattern = re.compile(rf"SPR-[{ALPHABET}]{{8}}")
    assert all(pattern.fullmatch(code) for code in codes)
    assert set(batch.coupons.values_list("percent_off", "max_uses")) == {(15, 1)}


def test_collisions_are_drawn_again_until_the_count_is_reached():
    # Two letters, three places: eight codes in all, so most draws collide.
    batch = coupon_batch_create(name="Tiny", count=8, percent_off=5, code_length=3, alphabet="AB")
    assert sorted(batch.coupons.values_list("code", flat=True)) == [
        "AAA", "AAB", "ABA", "ABB", "BAA", "BAB", "BBA", "BBB",
    ]  # fmt: skip


def test_codes_taken_by_another_batch_are_never_reused_and_an_exhausted_space_fails():
    coupon_batch_create(name="First", count=4, percent_off=5, code_length=2, alphabet="AB")
    with pytest.raises(RuntimeError, match="No new codes"):
        coupon_batch_create(name="Second", count=1, percent_off=5, code_length=2, alphabet="AB")
    assert Coupon.objects.count() == 4
    second = CouponBatch.objects.get(name="Second")
    assert second.status == CouponBatch.Status.FAILED
    assert second.error.startswith("No new codes could be drawn")
    assert second.started_at <= second.finished_at


def test_generation_resumes_where_an_interrupted_run_stopped():
    batch = CouponBatch.objects.create(
        name="Half", count=300, code_length=10, alphabet=ALPHABET, percent_off=10,
        valid_from="2026-01-01T00:00Z", max_uses=1,
    )  # fmt: skip
    Coupon.objects.bulk_create(
        Coupon(code=f"X{i:09d}", percent_off=10, batch=batch) for i in range(120)
    )
    seen = []

    batch = coupon_batch_generate(
        batch_id=batch.pk, on_progress=lambda made, total: seen.append(made)
    )

    assert batch.coupons.count() == 300
    assert seen == [300]
    finished = batch.finished_at
    assert batch.created <= batch.started_at <= finished
    batch = coupon_batch_generate(batch_id=batch.pk)  # done: nothing more
    assert (batch.coupons.count(), batch.finished_at) == (300, finished)


@pytest.mark.parametrize(("count", "shortest"), [(1, 4), (1_000, 6), (100_000, 8)])
def test_codes_are_long_enough_to_stay_unguessable(count, shortest):
    assert coupon_code_min_length(count=count, alphabet_size=32) == shortest
    assert 32**shortest >= count * 1_000_000 > 32 ** (shortest - 1)


def test_renaming_a_batch_changes_its_name_and_nothing_else():
    batch = coupon_batch_create(name="Autumn", count=3, percent_off=10, background=False)
    before = CouponBatch.objects.filter(pk=batch.pk).values().get()
    coupon_batch_rename(batch_id=batch.pk, name="Autumn fair")
    after = CouponBatch.objects.filter(pk=batch.pk).values().get()
    assert after == {**before, "name": "Autumn fair"}
