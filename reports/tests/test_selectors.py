from datetime import date
from decimal import Decimal

import pytest

from orders.models import Order
from orders.tests.factories import OrderFactory
from reports.selectors import order_id_by_number, period_end, period_start, sales_summary
from reports.tests.factories import ACCENTED_WINES, DAY, at, one_day, paid_order
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
    with django_assert_num_queries(7):
        one_day()
    for hour in range(10):
        paid_order(paid_at=at(DAY, hour), coupon_code=f"C{hour}", discount=Decimal("1.00"))
    with django_assert_num_queries(7):
        assert one_day().orders == 10


def test_an_order_is_found_by_its_number():
    order = OrderFactory(number="WS-7K3F-9QH2")
    OrderFactory()
    assert order_id_by_number(number="WS-7K3F-9QH2") == order.pk
    assert order_id_by_number(number="WS-NONE") is None
