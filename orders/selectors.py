from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.money import money_format
from core.totals import AmountLine, sale_totals
from orders.carriers import tracking_url
from orders.events import CARD_DECLINED
from orders.models import Order, OrderEvent, OrderItem, Refund, RefundState
from orders.refunds import PricedLine, RefundLineRequest, refund_amount_price
from shop.delivery.selectors import delivery_label

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
    "country",
    "phone",
    "delivery_method",
    "currency",
    "order_subtotal",
    "order_discount",
    "delivery_charge",
    "order_total",
    "sku",
    "wine",
    "vintage",
    "quantity",
    "unit_price",
    "line_total",
]


def order_totals(order: Order) -> list[AmountLine]:
    """Return what the order adds up to, line by line, as its page and its emails show it."""
    return sale_totals(
        subtotal=order.subtotal,
        discount=order.discount,
        coupon_code=order.coupon_code,
        delivery_label=delivery_label(
            method=order.delivery_method, country=order.country, zone=order.delivery_zone
        ),
        delivery_charge=order.delivery_charge,
        total=order.total,
        vat_rate=order.vat_rate,
    )


EXPORT_CHUNK = 500  # orders per query, so that a large export streams instead of piling up


def order_export_rows(orders: QuerySet[Order]) -> Iterator[list]:
    """Yield one row per order item, the order's columns repeated on each (times as they are:
    core.spreadsheet writes them in the shop's time zone).

    The orders are read in one query, their items in one query per EXPORT_CHUNK orders.
    """
    orders = orders.prefetch_related("items").order_by("created", "id")
    for order in orders.iterator(chunk_size=EXPORT_CHUNK):
        head = [
            order.number,
            order.created,
            order.status,
            order.paid_at,
            order.coupon_code,
            order.first_name,
            order.last_name,
            order.email,
            order.address,
            order.postal_code,
            order.city,
            order.country,
            order.phone,
            order.delivery_method,
            order.currency,
            order.subtotal,
            order.discount,
            order.delivery_charge,
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


def order_refund_state_filter(orders: QuerySet[Order], *, state: str) -> QuerySet[Order]:
    """Return the orders whose money given back is none, part or all of their total
    (RefundState), as Order.refund_state says of one."""
    match state:
        case RefundState.NONE:
            return orders.filter(refunded_amount__lte=0)
        case RefundState.PARTIAL:
            return orders.filter(refunded_amount__gt=0, refunded_amount__lt=F("total"))
        case RefundState.FULL:
            return orders.filter(Q(refunded_amount__gt=0), refunded_amount__gte=F("total"))
    raise ValueError(f"No refund state {state!r}.")


def refund_get(*, refund_id: int) -> Refund | None:
    """Return the refund with its order and its lines' order lines, or None."""
    return (
        Refund.objects.select_related("order", "created_by")
        .prefetch_related("lines__item")
        .filter(pk=refund_id)
        .first()
    )


def refund_list(*, order_id: int) -> list[Refund]:
    """Return the order's refunds, oldest first, with their lines' order lines."""
    return list(
        Refund.objects.filter(order_id=order_id)
        .select_related("created_by")
        .prefetch_related("lines__item")
    )


def refund_of_stripe(*, stripe_refund_id: str) -> Refund | None:
    """Return the refund Stripe knows by this id, or None."""
    if not stripe_refund_id:
        return None
    return Refund.objects.filter(stripe_refund_id=stripe_refund_id).first()


def refund_refundable_quantities(*, order_id: int) -> dict[int, int]:
    """Return the bottles left to refund on each line of the order, by the line's id."""
    rows = OrderItem.objects.filter(order_id=order_id).values_list(
        "pk", "quantity", "refunded_quantity"
    )
    return {pk: quantity - refunded for pk, quantity, refunded in rows}


def refund_quote(
    *, order_id: int, lines: Sequence[RefundLineRequest] = (), amount: Decimal | None = None
) -> tuple[Decimal, list[PricedLine]]:
    """Return what refund_request would give back for these lines and amount, and its lines
    priced, as the order is now; raise as it would."""
    order = Order.objects.get(pk=order_id)
    return refund_amount_price(order=order, items=order.items.all(), lines=lines, amount=amount)


class Milestone(NamedTuple):
    """A step of the order as the customer is told it: never a note meant for staff."""

    at: datetime
    text: str
    url: str = ""


# The status changes a customer is told about, in their words.
MILESTONE_WORDS = {
    Order.Status.PENDING: gettext_lazy("Order placed"),
    Order.Status.PAID: gettext_lazy("Payment received"),
    Order.Status.CANCELED: gettext_lazy("Order canceled"),
    Order.Status.EXPIRED: gettext_lazy("Order expired: it was not paid in time"),
}

# Where the order stands, as the customer reads it after "Your order WS-… is".
STATUS_WORDS = {
    Order.Status.PENDING: gettext_lazy("awaiting payment"),
    Order.Status.PAID: gettext_lazy("paid"),
    Order.Status.SHIPPED: gettext_lazy("shipped"),
    Order.Status.CANCELED: gettext_lazy("canceled"),
    Order.Status.EXPIRED: gettext_lazy("expired"),
    Order.Status.REFUNDED: gettext_lazy("refunded"),
}


def order_status_words(order: Order) -> str:
    """Return where the order stands in the customer's words and language ("paid")."""
    if order.status == Order.Status.SHIPPED and order.collected:
        return _("ready for collection at the shop")
    return str(STATUS_WORDS.get(order.status, order.get_status_display()))


def order_for_customer(*, number: str) -> Order | None:
    """Return the order of that number with its lines, or None."""
    return Order.objects.prefetch_related("items").filter(number=number).first()


def order_milestones(*, order: Order) -> list[Milestone]:
    """Return the order's timeline for its customer, oldest first: placed, paid, declined
    cards, shipped (with the parcel's tracking link), refunds that succeeded, canceled or
    expired. Two queries."""
    milestones = []
    events = OrderEvent.objects.filter(order=order).filter(
        Q(to_status__in=list(MILESTONE_WORDS)) | Q(message__startswith=CARD_DECLINED),
        Q(kind__in=[OrderEvent.Kind.PLACED, OrderEvent.Kind.STATUS, OrderEvent.Kind.PAYMENT]),
    )
    for event in events.only("created", "message", "to_status"):
        if event.message.startswith(CARD_DECLINED):
            milestones.append(Milestone(event.created, _("A card payment was declined")))
        else:
            milestones.append(Milestone(event.created, str(MILESTONE_WORDS[event.to_status])))
    if order.shipped_at:
        if order.collected:
            milestones.append(Milestone(order.shipped_at, _("Ready for collection at the shop")))
        else:
            url = tracking_url(order.carrier, order.tracking_number)
            text = (
                _("Shipped with %(carrier)s") % {"carrier": order.carrier}
                if order.carrier
                else _("Shipped")
            )
            milestones.append(Milestone(order.shipped_at, text, url))
    refunds = Refund.objects.filter(order=order, status=Refund.Status.SUCCEEDED)
    for at, amount in refunds.values_list("succeeded_at", "amount"):
        text = _("Refunded %(amount)s") % {"amount": money_format(amount)}
        milestones.append(Milestone(at, text))
    return sorted(milestones, key=lambda milestone: milestone.at)
