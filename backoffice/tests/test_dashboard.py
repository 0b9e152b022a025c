import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backoffice.dashboard import sales_figures, sales_figures_live
from orders.changes import VERSION
from orders.models import Order, Refund
from orders.refunds import order_cancel_refund, refund_succeed
from orders.services import order_cancel, order_expire, order_ship
from orders.tests.factories import pay, place
from reports.tests.factories import bulk_orders, german_order, paid_order, refunded
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db

INDEX = "/admin/"
# The session, the user and their permissions, the low-stock wines and the recent reports.
SESSION_AND_PAGE = 5


def local(days_ago: int, hour: int):
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(timezone.datetime(day.year, day.month, day.day, hour))


def place_order() -> Order:
    return place(lines=[(WineFactory(price=Decimal("20.00"), stock=24).pk, 2)])


def kpi(response, title: str):
    return next(card for card in response.context["kpis"] if card["title"] == title)


def test_kpis_count_local_days_and_only_sales(admin_client):
    paid_order(paid_at=local(0, 0) + timedelta(minutes=1))  # 2 bottles at 25.00, today
    paid_order(paid_at=local(6, 12), status=Order.Status.SHIPPED)
    paid_order(paid_at=local(7, 12), coupon_code="HIVER", discount=Decimal("10.00"))
    paid_order(paid_at=local(29, 12))
    paid_order(paid_at=local(30, 12))  # before the 30 days
    paid_order(paid_at=local(1, 12), status=Order.Status.REFUNDED)
    paid_order(paid_at=None, status=Order.Status.PENDING)
    paid_order(paid_at=None, status=Order.Status.PENDING, payment_flagged=True)

    response = admin_client.get(INDEX)

    assert response.status_code == 200
    assert kpi(response, "Revenue today")["money"] == Decimal("50.00")
    assert kpi(response, "Revenue, 7 days")["money"] == Decimal("100.00")
    assert kpi(response, "Revenue, 30 days")["money"] == Decimal("190.00")
    assert kpi(response, "Revenue, 30 days")["detail"] == "4 orders"
    assert kpi(response, "Average order, 30 days")["money"] == Decimal("47.50")
    assert kpi(response, "Awaiting payment")["count"] == 2
    assert kpi(response, "Flagged payments")["count"] == 1
    statuses = {row["status"]: row["orders"] for row in response.context["status_counts"]}
    assert statuses == {
        "pending": 2,
        "paid": 4,
        "shipped": 1,
        "canceled": 0,
        "expired": 0,
        "refunded": 1,
    }
    assert response.context["coupons"][0]["coupon_code"] == "HIVER"
    content = response.content.decode()
    for fragment in ['id="kpis"', 'id="revenue-chart"', "€190.00", "HIVER", 'class="chart"']:
        assert fragment in content


def test_revenue_is_net_of_refunds_on_the_day_they_succeeded(admin_client):
    order = paid_order(paid_at=local(10, 12))  # 2 bottles at 25.00
    paid_order(paid_at=local(0, 9))
    refund = refunded(order, (0, 1))  # 25.00, succeeded now
    Refund.objects.filter(pk=refund.pk).update(succeeded_at=local(0, 10))

    response = admin_client.get(INDEX)

    assert kpi(response, "Revenue today")["money"] == Decimal("25.00")
    assert kpi(response, "Revenue today")["detail"] == "1 orders, 1 refund"
    assert kpi(response, "Revenue, 30 days")["money"] == Decimal("75.00")
    assert kpi(response, "Average order, 30 days")["money"] == Decimal("37.50")
    assert [(w["units"], w["revenue"]) for w in response.context["top_wines"]] == [
        (3, Decimal("75.00"))
    ]


def test_delivery_income_is_shown_apart_from_wine_sales(admin_client):
    german_order(paid_at=local(2, 12))  # 50.00 of wine, 9.90 delivery
    paid_order(paid_at=local(0, 9), coupon_code="HIVER", discount=Decimal("5.00"))  # 45.00
    refunded(paid_order(paid_at=local(1, 9)), amount=Decimal("10.00"))

    response = admin_client.get(INDEX)

    assert kpi(response, "Wine sales, 30 days")["money"] == Decimal("145.00")
    assert kpi(response, "Delivery income, 30 days")["money"] == Decimal("9.90")
    assert kpi(response, "Revenue, 30 days")["money"] == Decimal("144.90")  # less the refund
    chart = json.loads(response.context["revenue_chart"])
    assert [dataset["data"][-3] for dataset in chart["datasets"]] == ["59.90", "9.90"]
    assert "€9.90" in response.content.decode()


def test_low_stock_wines_are_listed(admin_client):
    WineFactory(name="Côte-Rôtie La Landonne", stock=2, low_stock_threshold=6)
    WineFactory(name="Plenty", stock=50)
    response = admin_client.get(INDEX)
    assert [str(wine.name) for wine in response.context["low_stock"]] == ["Côte-Rôtie La Landonne"]


def test_staff_without_order_permission_see_no_sales(client, django_user_model):
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_wine"))
    client.force_login(clerk)
    response = client.get(INDEX)
    assert response.status_code == 200
    assert "kpis" not in response.context
    assert 'id="sales-dashboard"' not in response.content.decode()


def count_queries(client) -> tuple[int, int]:
    """Return the queries of the dashboard computing its sales figures, then reading them."""
    client.get(INDEX)  # warm-up: sessions, content types
    VERSION.replace()  # as the commit of a change to orders does
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(INDEX).status_code == 200
        counts.append(len(captured))
    return counts[0], counts[1]


def test_dashboard_queries_are_the_same_with_10_and_10000_orders(
    admin_client, django_capture_on_commit_callbacks
):
    wines = [WineFactory(stock=3, low_stock_threshold=5) for _ in range(12)]
    with django_capture_on_commit_callbacks(execute=True):
        bulk_orders(10, wines=wines, prefix="WS-FEW")
        refunded(Order.objects.filter(status=Order.Status.PAID).first(), (0, 1))
    few = count_queries(admin_client)
    with django_capture_on_commit_callbacks(execute=True):
        bulk_orders(9_990, wines=wines, prefix="WS-MANY")
        for order in Order.objects.filter(status=Order.Status.PAID, refunds=None)[:20]:
            refunded(order, (0, 1))
    assert Order.objects.count() == 10_000
    many = count_queries(admin_client)
    # The first request aggregates the sales (7 queries); the next reads them from the cache.
    assert few == many == (SESSION_AND_PAGE + 7, SESSION_AND_PAGE)
    assert admin_client.get(INDEX).context["kpis"][2]["money"] > 0


def test_sales_figures_equal_the_live_aggregation_after_each_change(
    django_capture_on_commit_callbacks,
):
    today = timezone.localdate()
    late = paid_order(paid_at=local(1, 23) + timedelta(minutes=59))  # yesterday, local time
    early = paid_order(paid_at=local(0, 0) + timedelta(minutes=30))  # today, yesterday in UTC
    coupon = paid_order(paid_at=local(12, 8), coupon_code="HIVER", discount=Decimal("10.00"))
    paid_order(paid_at=local(3, 12), status=Order.Status.SHIPPED)
    refunded(paid_order(paid_at=local(5, 12)), (0, 1))  # partly refunded
    paid_order(paid_at=local(2, 12), status=Order.Status.REFUNDED)
    pending, unpaid = place_order(), place_order()
    to_cancel = place_order()
    # Requested, the refund changes no figure (nor is Stripe asked: no commit runs here).
    canceling = order_cancel_refund(
        order_id=late.pk, restock={late.items.get().pk: False}, reason="Gift", actor=None
    )
    changes = {
        "paid": lambda: pay(pending),
        "partly refunded": lambda: refunded(coupon, (0, 1)),
        "canceled by its refund": lambda: refund_succeed(
            refund_id=canceling.pk, stripe_refund_id="re_cancel"
        ),
        "shipped": lambda: order_ship(order_id=pending.pk),
        "expired": lambda: order_expire(order_id=unpaid.pk),
        "canceled unpaid": lambda: order_cancel(order_id=to_cancel.pk),
        "paid date moved in bulk": lambda: Order.objects.filter(pk=early.pk).update(
            paid_at=local(9, 12)
        ),
        "refund moved in bulk": lambda: Refund.objects.update(succeeded_at=local(4, 12)),
    }
    assert sales_figures(today) == sales_figures_live(today)
    for change, make in changes.items():
        before = sales_figures(today)
        with django_capture_on_commit_callbacks(execute=True):
            make()
        after = sales_figures(today)
        assert after == sales_figures_live(today), change
        assert after != before, change  # each change moves a figure the dashboard shows


def test_sales_figures_are_read_once_until_an_order_changes(
    django_assert_num_queries, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    order = paid_order(paid_at=local(0, 12))
    with django_assert_num_queries(7):
        sales_figures(today)
    with django_assert_num_queries(0):
        sales_figures(today)
    with django_capture_on_commit_callbacks(execute=True):
        Order.objects.filter(pk=order.pk).update(paid_at=local(1, 12))
    with django_assert_num_queries(7):
        days = sales_figures(today)["days"]
    assert [row["revenue"] for row in days[-2:]] == [Decimal("50.00"), Decimal("0.00")]


def test_the_next_local_day_and_another_time_zone_have_figures_of_their_own():
    today = timezone.localdate()
    paid_order(paid_at=local(0, 0) + timedelta(minutes=30))
    assert sales_figures(today)["days"][-1]["revenue"] == Decimal("50.00")
    tomorrow = today + timedelta(days=1)
    assert sales_figures(tomorrow) == sales_figures_live(tomorrow)
    assert [row["revenue"] for row in sales_figures(tomorrow)["days"][-2:]] == [
        Decimal("50.00"),
        Decimal("0.00"),
    ]
    with timezone.override("UTC"):  # 00:30 in Paris is the day before in UTC
        assert sales_figures(today) == sales_figures_live(today)
        assert sales_figures(today)["days"][-2]["revenue"] == Decimal("50.00")
