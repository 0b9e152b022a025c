from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from orders.models import Order, OrderItem
from orders.tests.factories import OrderFactory
from shop.money import quantize

ACCENTED_WINES = [
    "Château Lagrézette Cahors",
    "Bodega Carmen Rodríguez Rioja Reserva",
    "Cordero di Montezemolo Barolo Monfalletto",
]


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

    wines, when given, are the catalog wines of the lines, in the same order.
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
        total=subtotal - discount,
        paid_at=paid_at or timezone.now(),
        **fields,
    )
    for item in items:
        item.order = order
    OrderItem.objects.bulk_create(items)
    return order
