from collections.abc import Iterator

from django.db.models import QuerySet

from orders.models import Order

EXPORT_HEADER = [
    "order",
    "placed",
    "status",
    "paid",
    "coupon",
    "first_name",
    "last_name",
    "email",
    "address",
    "postal_code",
    "city",
    "currency",
    "order_subtotal",
    "order_discount",
    "order_total",
    "sku",
    "wine",
    "vintage",
    "quantity",
    "unit_price",
    "line_total",
]


EXPORT_CHUNK = 500  # orders per query, so that a large export streams instead of piling up


def order_export_rows(orders: QuerySet[Order]) -> Iterator[list]:
    """Yield one row per order item, the order's columns repeated on each.

    The orders are read in one query, their items in one query per EXPORT_CHUNK orders.
    """
    orders = orders.prefetch_related("items").order_by("created", "id")
    for order in orders.iterator(chunk_size=EXPORT_CHUNK):
        head = [
            order.number,
            order.created.isoformat(timespec="seconds"),
            order.status,
            order.paid_at.isoformat(timespec="seconds") if order.paid_at else "",
            order.coupon_code,
            order.first_name,
            order.last_name,
            order.email,
            order.address,
            order.postal_code,
            order.city,
            order.currency,
            order.subtotal,
            order.discount,
            order.total,
        ]
        for item in order.items.all():
            yield [
                *head,
                item.sku,
                item.wine_name,
                item.vintage or "",
                item.quantity,
                item.unit_price,
                item.line_total,
            ]
