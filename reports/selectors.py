"""Sales figures, aggregated by the database: the reports and the admin dashboard read them here.

A sale is an order that is paid or shipped, counted on the local day (TIME_ZONE) it was paid.
Refunded orders are left out (the money went back), and so are canceled and expired ones.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from core.money import quantize
from orders.models import Order, OrderItem

SALE_STATUSES = (Order.Status.PAID, Order.Status.SHIPPED)
UNKNOWN = "unknown"  # sold wines that have since left the catalog


def period_start(kind: str, day: date) -> date:
    """Return the first day of the day, week (from Monday) or month that contains day."""
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    return day


def period_end(kind: str, start: date) -> date:
    """Return the day after the period of the given kind that begins on start."""
    if kind == "week":
        return start + timedelta(days=7)
    if kind == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def sales(start: date, end: date) -> QuerySet[Order]:
    """Return the sales paid from local day start up to, not including, local day end."""
    return Order.objects.filter(
        status__in=SALE_STATUSES,
        paid_at__gte=local_midnight(start),
        paid_at__lt=local_midnight(end),
    )


def sold_items(start: date, end: date) -> QuerySet[OrderItem]:
    return OrderItem.objects.filter(
        order__status__in=SALE_STATUSES,
        order__paid_at__gte=local_midnight(start),
        order__paid_at__lt=local_midnight(end),
    )


def _money(value) -> Decimal:
    return quantize(value or 0)


def revenue_by_day(start: date, end: date) -> list[dict]:
    """Return {day, orders, revenue} for every day of the period, days without sales included."""
    rows = (
        sales(start, end)
        .annotate(day=TruncDate("paid_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(orders=Count("pk"), revenue=Sum("total"))
        .order_by("day")
    )
    found = {row["day"]: row for row in rows}
    days = [start + timedelta(days=n) for n in range((end - start).days)]
    return [
        {
            "day": day,
            "orders": found[day]["orders"] if day in found else 0,
            "revenue": _money(found[day]["revenue"] if day in found else 0),
        }
        for day in days
    ]


def top_wines(start: date, end: date, *, limit: int = 10) -> list[dict]:
    """Return the wines that brought most revenue (before order discounts) in the period."""
    rows = (
        sold_items(start, end)
        .values("sku", "wine_name", "vintage")
        .annotate(units=Sum("quantity"), revenue=Sum("line_total"))
        .order_by("-revenue", "-units", "wine_name")[:limit]
    )
    return [{**row, "revenue": _money(row["revenue"])} for row in rows]


def _items_by(start: date, end: date, path: str) -> list[dict]:
    rows = (
        sold_items(start, end)
        .annotate(name=Coalesce(path, Value(UNKNOWN)))
        .values("name")
        .annotate(units=Sum("quantity"), revenue=Sum("line_total"))
        .order_by("-revenue", "name")
    )
    return [{**row, "revenue": _money(row["revenue"])} for row in rows]


def coupon_usage(start: date, end: date, *, limit: int | None = None) -> list[dict]:
    """Return {coupon_code, orders, discount, revenue} per coupon used in the period."""
    rows = (
        sales(start, end)
        .exclude(coupon_code="")
        .values("coupon_code")
        .annotate(orders=Count("pk"), discount=Sum("discount"), revenue=Sum("total"))
        .order_by("-orders", "coupon_code")
    )
    if limit:
        rows = rows[:limit]
    return [
        {**row, "discount": _money(row["discount"]), "revenue": _money(row["revenue"])}
        for row in rows
    ]


@dataclass(frozen=True)
class SalesSummary:
    start: date
    end: date  # the day after the period
    orders: int
    revenue: Decimal
    discount: Decimal
    units: int
    by_day: list[dict] = field(default_factory=list)
    top_wines: list[dict] = field(default_factory=list)
    by_category: list[dict] = field(default_factory=list)
    by_country: list[dict] = field(default_factory=list)
    coupons: list[dict] = field(default_factory=list)

    @property
    def average_order(self) -> Decimal:
        return quantize(self.revenue / self.orders) if self.orders else Decimal("0.00")

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


def sales_summary(*, start: date, end: date) -> SalesSummary:
    """Return the sales figures of the local days from start up to, not including, end."""
    if end <= start:
        raise ValueError("A period ends after it starts.")
    totals = sales(start, end).aggregate(
        orders=Count("pk"), revenue=Sum("total"), discount=Sum("discount")
    )
    units = sold_items(start, end).aggregate(units=Sum("quantity"))["units"] or 0
    return SalesSummary(
        start=start,
        end=end,
        orders=totals["orders"],
        revenue=_money(totals["revenue"]),
        discount=_money(totals["discount"]),
        units=units,
        by_day=revenue_by_day(start, end),
        top_wines=top_wines(start, end),
        by_category=_items_by(start, end, "wine__category__name"),
        by_country=_items_by(start, end, "wine__country__name"),
        coupons=coupon_usage(start, end),
    )


def order_id_by_number(*, number: str) -> int | None:
    """Return the id of the order of that number, if there is one."""
    return Order.objects.filter(number=number).values_list("pk", flat=True).first()


def orders_by_status() -> list[dict]:
    """Return {status, label, orders, flagged} for every status, in the order of the choices;
    flagged counts the orders whose payment needs staff attention."""
    rows = (
        Order.objects.order_by()
        .values("status")
        .annotate(orders=Count("pk"), flagged=Count("pk", filter=Q(payment_flagged=True)))
    )
    found = {row["status"]: row for row in rows}
    return [
        {
            "status": value,
            "label": label,
            "orders": found.get(value, {}).get("orders", 0),
            "flagged": found.get(value, {}).get("flagged", 0),
        }
        for value, label in Order.Status.choices
    ]
