"""Sales figures, aggregated by the database: the reports and the admin dashboard read them here.

A sale is an order that is paid or shipped, counted on the local day (TIME_ZONE) it was paid; an
order canceled by a full refund after it was paid stays a sale of its day, the refund taking
it back. Every figure is net of refunds: a refund that succeeded is taken off on the local day
it succeeded, whatever the day of the sale (a refund in December of a November sale lowers
December, November stays as it was reported). Pending and failed refunds count for nothing.

A refund's lines take their bottles and their amount off their wine, category and country in the
period of the refund, whether the bottles went back on sale or not (the customer no longer pays
for them); a refund of an amount alone (a goodwill gesture, or a refund made in Stripe's
dashboard not yet allocated to lines) lowers only the revenue. Wine revenue is line totals
before coupon discounts less the money refunded for the wine's bottles.

Delivery is income of its own: an order's total is its wine (after the coupon) and its delivery
charge. Wine sales are the totals less delivery, delivery income the delivery charges of the
orders paid, and refunds, taken off as a whole on the day they succeed, are their own line: net
revenue = wine sales + delivery income - refunds. (A refund is not split between wine and
delivery: a refund of a canceled order gives back both.)

VAT is counted per destination country and rate frozen on the order (Order.vat_rate), each order's
VAT computed as its invoice prints it (reports.vat), so the figures are the sums of the invoices;
the refunds of the period contain VAT at the same rate, as their credit notes say.

Orders left in the old "refunded" status (refunded, wholly, before refunds were recorded one by
one) are left out, as are canceled and expired ones.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from core.money import quantize
from core.vat import sale_vat, vat_included
from orders.models import Order, OrderItem, Refund, RefundLine
from shop.delivery.countries import country_name

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


def _sale(order: str = "") -> Q:
    """Return the condition that the order at the path order ("" or "order__"...) is a sale:
    paid or shipped, or canceled by a refund that succeeded (a paid order canceled in the admin).
    """
    canceling = Refund.objects.filter(
        order_id=OuterRef(f"{order}pk"), cancels_order=True, status=Refund.Status.SUCCEEDED
    )
    return Q(**{f"{order}status__in": SALE_STATUSES}) | Q(
        Exists(canceling), **{f"{order}status": Order.Status.CANCELED}
    )


def sales(start: date, end: date) -> QuerySet[Order]:
    """Return the sales paid from local day start up to, not including, local day end."""
    return Order.objects.filter(
        _sale(),
        paid_at__gte=local_midnight(start),
        paid_at__lt=local_midnight(end),
    )


def sold_items(start: date, end: date) -> QuerySet[OrderItem]:
    return OrderItem.objects.filter(
        _sale("order__"),
        order__paid_at__gte=local_midnight(start),
        order__paid_at__lt=local_midnight(end),
    )


def refunds(start: date, end: date) -> QuerySet[Refund]:
    """Return the refunds of sales that succeeded from local day start up to local day end."""
    return Refund.objects.filter(
        _sale("order__"),
        status=Refund.Status.SUCCEEDED,
        succeeded_at__gte=local_midnight(start),
        succeeded_at__lt=local_midnight(end),
    )


def refunded_lines(start: date, end: date) -> QuerySet[RefundLine]:
    """Return the lines of the refunds that succeeded in the period (see refunds)."""
    return RefundLine.objects.filter(
        _sale("refund__order__"),
        refund__status=Refund.Status.SUCCEEDED,
        refund__succeeded_at__gte=local_midnight(start),
        refund__succeeded_at__lt=local_midnight(end),
    )


def _money(value) -> Decimal:
    return quantize(value or 0)


def revenue_by_day(start: date, end: date) -> list[dict]:
    """Return {day, orders, discount, wine_sales, delivery, revenue, refunds, refunded} for every
    day of the period, days without sales included: revenue is the day's sales (wine and
    delivery) less the refunds that succeeded that day."""
    here = timezone.get_current_timezone()
    sold = (
        sales(start, end)
        .annotate(day=TruncDate("paid_at", tzinfo=here))
        .values("day")
        .annotate(
            orders=Count("pk"),
            revenue=Sum("total"),
            discount=Sum("discount"),
            delivery=Sum("delivery_charge"),
        )
        .order_by("day")
    )
    given_back = (
        refunds(start, end)
        .annotate(day=TruncDate("succeeded_at", tzinfo=here))
        .values("day")
        .annotate(refunds=Count("pk"), refunded=Sum("amount"))
        .order_by("day")
    )
    found = {row["day"]: row for row in sold}
    back = {row["day"]: row for row in given_back}
    days = [start + timedelta(days=n) for n in range((end - start).days)]
    rows = []
    for day in days:
        sold_that_day = found.get(day, {})
        refunded = _money(back.get(day, {}).get("refunded"))
        delivery = _money(sold_that_day.get("delivery"))
        wine_sales = _money(sold_that_day.get("revenue")) - delivery
        rows.append(
            {
                "day": day,
                "orders": sold_that_day.get("orders", 0),
                "discount": _money(sold_that_day.get("discount")),
                "wine_sales": wine_sales,
                "delivery": delivery,
                "revenue": wine_sales + delivery - refunded,
                "refunds": back.get(day, {}).get("refunds", 0),
                "refunded": refunded,
            }
        )
    return rows


def vat_by_country(start: date, end: date) -> list[dict]:
    """Return, for each destination country and VAT rate of the period's sales and refunds,
    {country, name, rate, orders, sales, vat, excluding_vat, refunded, refunded_vat}: the orders
    paid, what they paid (VAT included), the VAT it contains and the rest; the refunds that
    succeeded and the VAT they contain. By country name, then rate.

    Each order's VAT is its invoice's (wine and delivery rounded each): one query for the sales
    and one for the refunds, whatever their number.
    """
    rows: dict[tuple[str, Decimal], dict] = {}

    def row(country: str, rate: Decimal) -> dict:
        zero = Decimal("0.00")
        return rows.setdefault(
            (country, rate),
            {
                "country": country,
                "name": country_name(country) if country else UNKNOWN,
                "rate": rate,
                "orders": 0,
                "sales": zero,
                "vat": zero,
                "excluding_vat": zero,
                "refunded": zero,
                "refunded_vat": zero,
            },
        )

    sold = sales(start, end).values_list("country", "vat_rate", "total", "delivery_charge")
    for country, rate, total, delivery_charge in sold.order_by():
        found = row(country, rate)
        vat = sale_vat(total=total, delivery_charge=delivery_charge, rate=rate)
        found["orders"] += 1
        found["sales"] += total
        found["vat"] += vat
        found["excluding_vat"] += total - vat
    given_back = refunds(start, end).values_list("order__country", "order__vat_rate", "amount")
    for country, rate, amount in given_back.order_by():
        found = row(country, rate)
        found["refunded"] += amount
        found["refunded_vat"] += vat_included(amount, rate)
    return sorted(rows.values(), key=lambda found: (found["name"], found["rate"]))


def _net(sold, refunded, key) -> list[dict]:
    """Return the sold rows less the refunded rows of the same key, refunded-only rows included,
    by net revenue, most first."""
    rows = {key(row): {**row, "revenue": _money(row["revenue"])} for row in sold}
    for row in refunded:
        found = rows.setdefault(key(row), {**row, "units": 0, "revenue": Decimal("0.00")})
        found["units"] -= row["refunded_units"]
        found["revenue"] -= _money(row["refunded"])
    for row in rows.values():
        row.pop("refunded_units", None)
        row.pop("refunded", None)
    return list(rows.values())


def top_wines(start: date, end: date, *, limit: int = 10) -> list[dict]:
    """Return the wines that brought most revenue (before order discounts, less their refunds)
    in the period."""
    fields = ("sku", "wine_name", "vintage")
    sold = (
        sold_items(start, end)
        .values(*fields)
        .annotate(units=Sum("quantity"), revenue=Sum("line_total"))
        .order_by()
    )
    refunded = (
        refunded_lines(start, end)
        .values(sku=F("item__sku"), wine_name=F("item__wine_name"), vintage=F("item__vintage"))
        .annotate(refunded_units=Sum("quantity"), refunded=Sum("amount"))
        .order_by()
    )
    rows = _net(sold, refunded, key=lambda row: tuple(row[name] for name in fields))
    rows.sort(key=lambda row: (-row["revenue"], -row["units"], row["wine_name"]))
    return rows[:limit]


def _items_by(start: date, end: date, path: str) -> list[dict]:
    sold = (
        sold_items(start, end)
        .annotate(name=Coalesce(path, Value(UNKNOWN)))
        .values("name")
        .annotate(units=Sum("quantity"), revenue=Sum("line_total"))
        .order_by()
    )
    refunded = (
        refunded_lines(start, end)
        .annotate(name=Coalesce(f"item__{path}", Value(UNKNOWN)))
        .values("name")
        .annotate(refunded_units=Sum("quantity"), refunded=Sum("amount"))
        .order_by()
    )
    rows = _net(sold, refunded, key=lambda row: row["name"])
    rows.sort(key=lambda row: (-row["revenue"], row["name"]))
    return rows


def coupon_usage(start: date, end: date, *, limit: int | None = None) -> list[dict]:
    """Return {coupon_code, orders, discount, revenue} per coupon used in the period: the orders
    paid and their discount, the revenue net of the refunds of the coupon's orders that succeeded
    in the period."""
    sold = (
        sales(start, end)
        .exclude(coupon_code="")
        .values("coupon_code")
        .annotate(orders=Count("pk"), discount=Sum("discount"), revenue=Sum("total"))
        .order_by()
    )
    refunded = dict(
        refunds(start, end)
        .exclude(order__coupon_code="")
        .values_list("order__coupon_code")
        .annotate(refunded=Sum("amount"))
        .order_by()
    )
    rows = {row["coupon_code"]: {**row, "discount": _money(row["discount"])} for row in sold}
    for code in refunded.keys() - rows.keys():
        rows[code] = {"coupon_code": code, "orders": 0, "discount": Decimal("0.00"), "revenue": 0}
    result = [
        {**row, "revenue": _money(row["revenue"]) - _money(refunded.get(code))}
        for code, row in rows.items()
    ]
    result.sort(key=lambda row: (-row["orders"], row["coupon_code"]))
    return result[:limit] if limit else result


@dataclass(frozen=True)
class SalesSummary:
    start: date
    end: date  # the day after the period
    orders: int
    revenue: Decimal  # net: wine sales + delivery income - refunds
    discount: Decimal
    units: int  # bottles sold less bottles refunded in the period
    refunds: int = 0  # refunds that succeeded in the period
    refunded: Decimal = Decimal("0.00")
    restocked: int = 0  # bottles of those refunds that went back on sale
    wine_sales: Decimal = Decimal("0.00")  # totals less delivery, after coupons, before refunds
    delivery: Decimal = Decimal("0.00")  # the delivery charges of the orders paid
    by_day: list[dict] = field(default_factory=list)
    top_wines: list[dict] = field(default_factory=list)
    by_category: list[dict] = field(default_factory=list)
    by_country: list[dict] = field(default_factory=list)
    coupons: list[dict] = field(default_factory=list)
    vat_by_country: list[dict] = field(default_factory=list)

    @property
    def average_order(self) -> Decimal:
        """Return the net revenue per order paid in the period."""
        return quantize(self.revenue / self.orders) if self.orders else Decimal("0.00")

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


def sales_summary(*, start: date, end: date) -> SalesSummary:
    """Return the sales figures of the local days from start up to, not including, end, net of
    the refunds that succeeded on those days."""
    if end <= start:
        raise ValueError("A period ends after it starts.")
    units = sold_items(start, end).aggregate(units=Sum("quantity"))["units"] or 0
    bottles = refunded_lines(start, end).aggregate(
        refunded=Sum("quantity"), restocked=Sum("quantity", filter=Q(restock=True))
    )
    by_day = revenue_by_day(start, end)
    return SalesSummary(
        start=start,
        end=end,
        orders=sum(row["orders"] for row in by_day),
        revenue=sum((row["revenue"] for row in by_day), Decimal("0.00")),
        discount=sum((row["discount"] for row in by_day), Decimal("0.00")),
        units=units - (bottles["refunded"] or 0),
        refunds=sum(row["refunds"] for row in by_day),
        refunded=sum((row["refunded"] for row in by_day), Decimal("0.00")),
        restocked=bottles["restocked"] or 0,
        wine_sales=sum((row["wine_sales"] for row in by_day), Decimal("0.00")),
        delivery=sum((row["delivery"] for row in by_day), Decimal("0.00")),
        by_day=by_day,
        top_wines=top_wines(start, end),
        by_category=_items_by(start, end, "wine__category__name"),
        by_country=_items_by(start, end, "wine__country__name"),
        coupons=coupon_usage(start, end),
        vat_by_country=vat_by_country(start, end),
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
