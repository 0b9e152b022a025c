from datetime import date
from decimal import Decimal

import pytest

from orders.models import Order, Refund
from orders.refunds import (
    RefundLineRequest,
    order_cancel_refund,
    refund_fail,
    refund_request,
    refund_succeed,
)
from orders.tests.factories import OrderFactory
from reports.invoices import InvoiceSnapshot
from reports.selectors import order_id_by_number, period_end, period_start, sales_summary
from reports.services import invoice_ensure
from reports.tests.factories import (
    ACCENTED_WINES,
    DAY,
    at,
    german_order,
    one_day,
    paid_order,
    refunded,
)
from shop.delivery.models import DeliveryMethod
from shop.tests.factories import CategoryFactory, CountryFactory, RegionFactory, WineFactory

pytestmark = pytest.mark.django_db


def test_periods_start_on_the_day_monday_or_first_of_the_month():
    assert period_start("day", DAY) == DAY
    assert period_start("week", DAY) == date(2026, 3, 9)  # a Saturday's Monday
    assert period_end("week", date(2026, 3, 9)) == date(2026, 3, 16)
    assert period_start("month", DAY) == date(2026, 3, 1)
    assert period_end("month", date(2026, 12, 1)) == date(2027, 1, 1)
    assert period_end("month", date(2024, 2, 1)) == date(2024, 3, 1)


def test_a_sale_counts_on_the_local_day_it_was_paid():
    paid_order(paid_at=at(DAY, 0, 5))  # 23:05 UTC the day before
    paid_order(paid_at=at(DAY, 23, 55))  # 22:55 UTC the same day
    paid_order(paid_at=at(date(2026, 3, 15), 0, 5))
    paid_order(paid_at=at(date(2026, 3, 13), 23, 55))
    assert one_day().orders == 2


def test_only_paid_and_shipped_orders_are_sales():
    for status in Order.Status.values:
        paid_order(status=status, paid_at=at(DAY, 12))
    summary = one_day()
    assert summary.orders == 2
    assert summary.revenue == Decimal("100.00")  # two orders of 2 bottles at 25.00


def test_summary_figures_categories_countries_and_coupons():
    red, white = CategoryFactory(name="Red"), CategoryFactory(name="White")
    france, spain = CountryFactory(name="France"), CountryFactory(name="Spain")
    lagrezette = WineFactory(category=red, region=RegionFactory(country=france))
    rodriguez = WineFactory(category=white, region=RegionFactory(country=spain))
    paid_order(
        [(ACCENTED_WINES[0], Decimal("30.00"), 2), (ACCENTED_WINES[1], Decimal("10.00"), 3)],
        wines=[lagrezette, rodriguez],
        coupon_code="PRINTEMPS",
        discount=Decimal("9.00"),
        paid_at=at(DAY, 10),
    )
    paid_order([(ACCENTED_WINES[0], Decimal("30.00"), 1)], wines=[lagrezette], paid_at=at(DAY, 11))
    paid_order([(ACCENTED_WINES[2], Decimal("50.00"), 1)], paid_at=at(DAY, 12))  # gone wine

    summary = one_day()

    assert (summary.orders, summary.units) == (3, 7)
    assert summary.revenue == Decimal("161.00")  # 60 + 30 - 9, 30, 50
    assert summary.discount == Decimal("9.00")
    assert summary.average_order == Decimal("53.67")
    assert [(w["wine_name"], w["units"], w["revenue"]) for w in summary.top_wines] == [
        (ACCENTED_WINES[0], 3, Decimal("90.00")),
        (ACCENTED_WINES[2], 1, Decimal("50.00")),
        (ACCENTED_WINES[1], 3, Decimal("30.00")),
    ]
    assert [(c["name"], c["revenue"]) for c in summary.by_category] == [
        ("Red", Decimal("90.00")),
        ("unknown", Decimal("50.00")),
        ("White", Decimal("30.00")),
    ]
    assert [(c["name"], c["units"]) for c in summary.by_country] == [
        ("France", 3),
        ("unknown", 1),
        ("Spain", 3),
    ]
    assert summary.coupons == [
        {
            "coupon_code": "PRINTEMPS",
            "orders": 1,
            "discount": Decimal("9.00"),
            "revenue": Decimal("81.00"),
        }
    ]


def test_days_without_sales_are_in_the_daily_figures():
    paid_order(paid_at=at(date(2026, 3, 10), 9))
    summary = sales_summary(start=date(2026, 3, 9), end=date(2026, 3, 16))
    assert [row["orders"] for row in summary.by_day] == [0, 1, 0, 0, 0, 0, 0]
    assert summary.by_day[1]["revenue"] == Decimal("50.00")


def test_summary_takes_the_same_queries_whatever_the_sales(django_assert_num_queries):
    with django_assert_num_queries(14):
        one_day()
    for hour in range(10):
        order = paid_order(
            paid_at=at(DAY, hour),
            coupon_code=f"C{hour}",
            discount=Decimal("1.00"),
            country=["FR", "DE", "IT"][hour % 3],
            vat_rate=[Decimal("0.20"), Decimal("0.19"), Decimal("0.22")][hour % 3],
            delivery_charge=Decimal(hour),
        )
        succeeded_on(refunded(order, (0, 1)), at(DAY, 20))
    with django_assert_num_queries(14):
        summary = one_day()
    assert (summary.orders, summary.refunds, len(summary.vat_by_country)) == (10, 10, 3)


def test_an_order_is_found_by_its_number():
    order = OrderFactory(number="WS-7K3F-9QH2")
    OrderFactory()
    assert order_id_by_number(number="WS-7K3F-9QH2") == order.pk
    assert order_id_by_number(number="WS-NONE") is None


def succeeded_on(refund: Refund, when) -> Refund:
    """Move the day a succeeded refund succeeded on (the service records the time it runs)."""
    Refund.objects.filter(pk=refund.pk).update(succeeded_at=when)
    return refund


def test_a_refund_lowers_the_day_it_succeeded_not_the_day_of_the_sale():
    november, december = date(2026, 11, 20), date(2026, 12, 3)
    order = paid_order(paid_at=at(november, 10))  # 2 bottles at 25.00
    succeeded_on(refunded(order, amount=Decimal("20.00")), at(december, 9))

    assert one_day(november).revenue == Decimal("50.00")
    assert one_day(november).refunds == 0
    in_december = one_day(december)
    assert (in_december.orders, in_december.refunds) == (0, 1)
    assert (in_december.revenue, in_december.refunded) == (Decimal("-20.00"), Decimal("20.00"))
    month = sales_summary(start=date(2026, 12, 1), end=date(2027, 1, 1))
    assert month.revenue == Decimal("-20.00")
    assert month.by_day[2]["revenue"] == Decimal("-20.00")
    assert month.by_day[2]["refunds"] == 1
    both = sales_summary(start=date(2026, 11, 1), end=date(2027, 1, 1))
    assert (both.orders, both.revenue, both.units) == (1, Decimal("30.00"), 2)


def bottles_refunded(order: Order, quantity: int, *, restock: bool, when) -> Refund:
    """Refund bottles of the order's one line through the services, succeeded at when."""
    refund = refund_request(
        order_id=order.pk,
        lines=[RefundLineRequest(item_id=order.items.get().pk, quantity=quantity, restock=restock)],
        reason="Returned",
        actor=None,
    )
    refund_succeed(refund_id=refund.pk, stripe_refund_id=f"re_{refund.pk:08d}")
    return succeeded_on(refund, when)


def test_a_restocked_bottle_refunded_the_same_day_shows_in_the_day_and_its_wine():
    wine = WineFactory(category=CategoryFactory(name="Red"), stock=4)
    order = paid_order([(ACCENTED_WINES[0], Decimal("20.00"), 3)], wines=[wine], paid_at=at(DAY, 9))
    refund = bottles_refunded(order, 1, restock=True, when=at(DAY, 18))
    refund.refresh_from_db()

    summary = one_day()

    assert refund.amount == Decimal("20.00")
    assert refund.lines.get().restock is True
    assert (summary.refunds, summary.refunded, summary.restocked) == (1, Decimal("20.00"), 1)
    assert (summary.orders, summary.revenue, summary.units) == (1, Decimal("40.00"), 2)
    assert summary.average_order == Decimal("40.00")
    assert [(w["wine_name"], w["units"], w["revenue"]) for w in summary.top_wines] == [
        (ACCENTED_WINES[0], 2, Decimal("40.00"))
    ]
    assert [(c["name"], c["units"], c["revenue"]) for c in summary.by_category] == [
        ("Red", 2, Decimal("40.00"))
    ]
    wine.refresh_from_db()
    assert wine.stock == 5
    assert summary.by_day == [
        {
            "day": DAY,
            "orders": 1,
            "discount": Decimal("0.00"),
            "wine_sales": Decimal("60.00"),
            "delivery": Decimal("0.00"),
            "revenue": Decimal("40.00"),
            "refunds": 1,
            "refunded": Decimal("20.00"),
        }
    ]


def test_bottles_refunded_but_not_restocked_lower_the_wine_not_the_restocked_count():
    order = paid_order([(ACCENTED_WINES[1], Decimal("10.00"), 3)], paid_at=at(DAY, 9))
    bottles_refunded(order, 2, restock=False, when=at(DAY, 12))

    summary = one_day()

    assert (summary.refunds, summary.refunded, summary.restocked) == (1, Decimal("20.00"), 0)
    assert (summary.revenue, summary.units) == (Decimal("10.00"), 1)
    assert summary.top_wines[0]["units"] == 1


def test_a_wine_refunded_in_a_later_period_shows_its_refund_there():
    order = paid_order([(ACCENTED_WINES[0], Decimal("20.00"), 3)], paid_at=at(DAY, 9))
    succeeded_on(refunded(order, (0, 1)), at(date(2026, 3, 16), 9))
    later = one_day(date(2026, 3, 16))
    assert [(w["wine_name"], w["units"], w["revenue"]) for w in later.top_wines] == [
        (ACCENTED_WINES[0], -1, Decimal("-20.00"))
    ]
    assert one_day().top_wines[0]["units"] == 3


def test_a_coupon_revenue_is_net_of_its_orders_refunds():
    order = paid_order(coupon_code="HIVER", discount=Decimal("10.00"), paid_at=at(DAY, 9))
    succeeded_on(refunded(order, amount=Decimal("15.00")), at(DAY, 10))
    assert one_day().coupons == [
        {
            "coupon_code": "HIVER",
            "orders": 1,
            "discount": Decimal("10.00"),
            "revenue": Decimal("25.00"),
        }
    ]


def test_pending_and_failed_refunds_change_nothing():
    order = paid_order([(ACCENTED_WINES[0], Decimal("20.00"), 3)], paid_at=at(DAY, 9))
    item = order.items.get()
    failed = refund_request(
        order_id=order.pk,
        lines=[RefundLineRequest(item_id=item.pk, quantity=1)],
        reason="",
        actor=None,
    )
    refund_fail(refund_id=failed.pk, reason="card closed")
    refund_request(order_id=order.pk, amount=Decimal("5.00"), reason="", actor=None)  # pending

    summary = one_day()

    assert (summary.refunds, summary.refunded, summary.restocked) == (0, Decimal("0.00"), 0)
    assert (summary.revenue, summary.units) == (Decimal("60.00"), 3)


def test_a_paid_order_canceled_by_its_refund_stays_a_sale_of_its_day():
    order = paid_order(wines=[WineFactory()], paid_at=at(DAY, 9))
    refund = order_cancel_refund(
        order_id=order.pk, restock={order.items.get().pk: True}, reason="Changed mind", actor=None
    )
    refund_succeed(refund_id=refund.pk, stripe_refund_id="re_cancel")
    succeeded_on(refund, at(date(2026, 3, 20), 9))
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELED

    assert (one_day().orders, one_day().revenue) == (1, Decimal("50.00"))
    later = one_day(date(2026, 3, 20))
    assert (later.revenue, later.refunds, later.restocked) == (Decimal("-50.00"), 1, 2)


def test_delivery_income_is_apart_from_wine_sales_and_refunds_from_both():
    german_order(paid_at=at(DAY, 9))  # 50.00 of wine, 9.90 delivery
    # 45.00 after the coupon, collected at the shop
    paid_order(
        coupon_code="AUTOMNE10",
        discount=Decimal("5.00"),
        paid_at=at(DAY, 10),
        delivery_method=DeliveryMethod.COLLECT,
    )
    succeeded_on(refunded(german_order(paid_at=at(DAY, 11)), (0, 1)), at(DAY, 12))

    summary = one_day()

    assert summary.wine_sales == Decimal("145.00")  # 50 + 45 + 50, after the coupon
    assert summary.delivery == Decimal("19.80")
    assert summary.refunded > 0
    assert summary.revenue == summary.wine_sales + summary.delivery - summary.refunded
    [day] = summary.by_day
    assert (day["wine_sales"], day["delivery"]) == (Decimal("145.00"), Decimal("19.80"))


def test_vat_by_country_and_rate_is_the_sum_of_the_invoices():
    orders = [
        german_order(
            [("Riesling", Decimal("10.01"), 1)],
            delivery_charge=Decimal("4.99"),
            paid_at=at(DAY, 9),
        ),
        german_order([("Spätburgunder", Decimal("33.33"), 3)], paid_at=at(DAY, 10)),
        paid_order([("Cahors", Decimal("12.34"), 2)], paid_at=at(DAY, 11)),  # FR, 20 %
        paid_order(
            [("Chianti", Decimal("9.99"), 1)],
            country="IT",
            vat_rate=Decimal("0.2200"),
            delivery_charge=Decimal("12.50"),
            paid_at=at(DAY, 12),
        ),
    ]
    invoices = [
        (order.country, InvoiceSnapshot.from_json(invoice_ensure(order_id=order.pk).snapshot))
        for order in orders
    ]

    rows = one_day().vat_by_country

    assert [(row["name"], row["rate"], row["orders"]) for row in rows] == [
        ("France", Decimal("0.20"), 1),
        ("Germany", Decimal("0.19"), 2),
        ("Italy", Decimal("0.22"), 1),
    ]
    for row in rows:
        issued = [snapshot for country, snapshot in invoices if country == row["country"]]
        assert row["sales"] == sum(snapshot.total for snapshot in issued)
        assert row["vat"] == sum(share.amount for snapshot in issued for share in snapshot.vat)
        assert row["excluding_vat"] == sum(snapshot.total_excluding_vat for snapshot in issued)
    germany = rows[1]
    # 15.00 with 1.60 + 0.80 of VAT; 99.99 + 9.90 with 15.96 + 1.58
    assert (germany["sales"], germany["vat"]) == (Decimal("124.89"), Decimal("19.94"))


def test_refunds_contain_vat_at_their_order_rate_in_the_period_they_succeed():
    order = german_order(paid_at=at(date(2026, 3, 13), 9))
    succeeded_on(refunded(order, amount=Decimal("11.90")), at(DAY, 9))

    [row] = one_day().vat_by_country

    assert (row["name"], row["orders"], row["sales"]) == ("Germany", 0, Decimal("0.00"))
    assert (row["refunded"], row["refunded_vat"]) == (Decimal("11.90"), Decimal("1.90"))
