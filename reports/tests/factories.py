from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from core.money import quantize
from orders.models import Order, OrderItem
from orders.tests.factories import OrderFactory
from reports.selectors import period_end, sales_summary

PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 3, 14)
ACCENTED_WINES = [
    "Château Lagrézette Cahors",
    "Bodega Carmen Rodríguez Rioja Reserva",
    "Cordero di Montezemolo Barolo Monfalletto",
]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


def one_day(day: date = DAY):
    """Return the sales summary of one local day."""
    return sales_summary(start=day, end=period_end("day", day))


def paid_order(
    lines=(("Château Lagrézette Cahors", Decimal("25.00"), 2),),
    *,
    wines=None,
    coupon_code: str = "",
    discount: Decimal = Decimal("0.00"),
    paid_at: datetime | None = None,
    status: str = Order.Status.PAID,
    **fields,
) -> Order:
    """Return an order of (wine name, unit price, quantity) lines, paid at paid_at (now).

    wines, when given, are the catalog wines of the lines, in the same order. A delivery_charge
    among the fields is added to the total.
    """
    items = [
        OrderItem(
            wine=wines[index] if wines else None,
            sku=f"SKU-{index:05d}",
            wine_name=name,
            vintage=2015 + index % 8,
            unit_price=price,
            quantity=quantity,
            line_total=quantize(price * quantity),
        )
        for index, (name, price, quantity) in enumerate(lines)
    ]
    subtotal = quantize(sum((item.line_total for item in items), Decimal(0)))
    order = OrderFactory(
        status=status,
        subtotal=subtotal,
        coupon_code=coupon_code,
        discount=discount,
        total=subtotal - discount + fields.get("delivery_charge", Decimal("0.00")),
        paid_at=paid_at or timezone.now(),
        **fields,
    )
    for item in items:
        item.order = order
    OrderItem.objects.bulk_create(items)
    return order


def german_order(lines=(("Château Lagrézette Cahors", Decimal("25.00"), 2),), **fields) -> Order:
    """Return a paid order delivered to Berlin at 9.90, taxed at Germany's 19 %."""
    return paid_order(
        lines,
        **{
            "address": "Unter den Linden 5",
            "postal_code": "10117",
            "city": "Berlin",
            "country": "DE",
            "phone": "+49 30 1234567",
            "delivery_zone": "European Union",
            "delivery_charge": Decimal("9.90"),
            "vat_rate": Decimal("0.1900"),
            **fields,
        },
    )


def bulk_orders(count: int, *, wines=(), days: int = 40, prefix: str = "WS-BULK") -> None:
    """Insert count orders of two lines each, spread over the last days and over every status,
    a few with a coupon or a flagged payment: quickly, with bulk_create."""
    now = timezone.now()
    statuses = Order.Status.values
    orders = []
    for n in range(count):
        status = statuses[n % len(statuses)]
        paid = status in {Order.Status.PAID, Order.Status.SHIPPED, Order.Status.REFUNDED}
        orders.append(
            Order(
                number=f"{prefix}-{n:07d}",
                status=status,
                first_name="Zoë",
                last_name="Rodríguez",
                email=f"buyer{n}@example.com",
                address="8 allée des Chênes",
                postal_code="51200",
                city="Épernay",
                country="FR",
                currency="EUR",
                vat_rate=Decimal("0.2000"),
                subtotal=Decimal("60.00"),
                coupon_code="AUTOMNE10" if n % 7 == 0 else "",
                discount=Decimal("6.00") if n % 7 == 0 else Decimal("0.00"),
                total=Decimal("54.00") if n % 7 == 0 else Decimal("60.00"),
                paid_at=now - timedelta(hours=(n * 7) % (days * 24)) if paid else None,
                payment_flagged=n % 97 == 0,
            )
        )
    created = Order.objects.bulk_create(orders, batch_size=2000)
    if not created[0].pk:  # backends that return no ids
        created = list(Order.objects.filter(number__startswith=prefix).order_by("pk"))
    items = []
    for n, order in enumerate(created):
        for line in range(2):
            wine = wines[(n + line) % len(wines)] if wines else None
            items.append(
                OrderItem(
                    order=order,
                    wine=wine,
                    sku=wine.sku if wine else f"GONE-{line}",
                    wine_name=wine.name if wine else ACCENTED_WINES[line],
                    vintage=2018,
                    unit_price=Decimal("15.00"),
                    quantity=2,
                    line_total=Decimal("30.00"),
                )
            )
    OrderItem.objects.bulk_create(items, batch_size=4000)


def refunded(order: Order, *lines: tuple[int, int], amount: Decimal | None = None):
    """Refund bottles of the order's lines, (line index, bottles) pairs, or an amount alone,
    and record Stripe's word that the refund succeeded; return the refund."""
    from orders.refunds import RefundLineRequest, refund_request, refund_succeed

    items = list(order.items.order_by("pk"))
    refund = refund_request(
        order_id=order.pk,
        lines=[RefundLineRequest(item_id=items[i].pk, quantity=n) for i, n in lines],
        amount=amount,
        reason="Corked",
        actor=None,
    )
    refund_succeed(refund_id=refund.pk, stripe_refund_id=f"re_{refund.pk:08d}")
    refund.refresh_from_db()
    return refund


def succeeded_refund(order: Order, amount: Decimal = Decimal("5.00")):
    """Return a succeeded refund of an amount of the order, written as it is stored, with no
    service run and so nothing announced (the credit note is left to the test to make)."""
    from orders.models import Refund

    return Refund.objects.create(
        order=order,
        kind=Refund.Kind.STAFF,
        status=Refund.Status.SUCCEEDED,
        amount=amount,
        succeeded_at=timezone.now(),
    )
