from collections.abc import Iterator

from django.db.models import QuerySet

from orders.models import Order

EXPORT_HEADER = [
    "order",
    "placed",
    "status",
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


def order_export_rows(orders: QuerySet[Order]) -> Iterator[list]:
    """Yield one row per order item, the order's columns repeated on each (two queries)."""
    for order in orders.prefetch_related("items").order_by("created", "id"):
        head = [
            order.number,
            order.created.isoformat(timespec="seconds"),
            order.status,
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
