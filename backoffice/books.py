"""The books: what the orders, the stock, the payments, the emails, the coupons and the refunds
must add up to whatever happened to the shop (load, faults, hostile input). Reads only.
"""

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import stripe
from django.db.models import Count, F, Q, Sum

from core.money import from_minor_units, quantize
from coupons.models import Coupon
from orders.models import Order, OrderEmail, OrderEvent, OrderItem, Refund, RefundLine
from payments import stripe_client
from payments.models import StripeEvent
from shop.models import Wine

# Orders whose bottles are out of stock: reserved, sold or sent. Expired and canceled orders
# gave theirs back.
HOLDING_STOCK = (Order.Status.PENDING, Order.Status.PAID, Order.Status.SHIPPED)
# Refunded ones too, but for the bottles their refunds put back on sale (restocked_quantity).
HOLDING_STOCK += (Order.Status.REFUNDED,)
RELEASED_STOCK = (Order.Status.EXPIRED, Order.Status.CANCELED)
PAID_ONCE = (Order.Status.PAID, Order.Status.SHIPPED, Order.Status.REFUNDED)
WHAT = {
    "orders": "every order has items; subtotal = sum of lines; total = subtotal - discount + "
    "delivery",
    "stock": "initial - current stock = bottles of stock-holding orders less those refunds put "
    "back on sale; expired/canceled orders released once",
    "payments": "one paid transition per paid order, none twice; each Stripe event stored once",
    "emails": "one email per paid order (confirmation and receipt) and one per succeeded refund, "
    "none before payment, each sent once",
    "coupons": "coupon uses = unreleased redemptions",
    "refunds": "each order's refunds committed and refunded = its refunds not failed and "
    "succeeded; each line's bottles refunded and restocked = its refund lines not failed and "
    "succeeded back on sale",
}
WHAT_STRIPE = "each paid order: paid - refunded = what Stripe holds (the charge less its refunds)"


@dataclass
class Check:
    name: str
    what: str  # what was compared, for the report
    checked: int = 0
    wrong: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.wrong


def _orders(check: Check) -> Check:
    items = OrderItem.objects.values("order").annotate(lines=Count("id"), sum=Sum("line_total"))
    by_order = {row["order"]: row for row in items}
    for item in OrderItem.objects.only("order_id", "unit_price", "quantity", "line_total"):
        if quantize(item.unit_price * item.quantity) != item.line_total:
            check.wrong.append(f"order #{item.order_id}: line {item.pk} does not add up")
    fields = ("number", "subtotal", "discount", "delivery_charge", "total")
    for order in Order.objects.only(*fields).iterator():
        check.checked += 1
        row = by_order.get(order.pk)
        if row is None:
            check.wrong.append(f"{order.number} has no items")
            continue
        if quantize(row["sum"]) != order.subtotal:
            check.wrong.append(f"{order.number}: subtotal {order.subtotal} ≠ lines {row['sum']}")
        # What the customer paid: the wine after the coupon, and the delivery.
        if order.subtotal - order.discount + order.delivery_charge != order.total:
            check.wrong.append(f"{order.number}: total ≠ subtotal − discount + delivery")
    return check


def _stock(check: Check, initial_stock: dict[int, int]) -> Check:
    held = Counter()
    rows = OrderItem.objects.filter(order__status__in=HOLDING_STOCK, wine__isnull=False)
    rows = rows.annotate(held=F("quantity") - F("restocked_quantity"))
    for wine_id, quantity in rows.values_list("wine_id", "held"):
        held[wine_id] += quantity
    current = dict(Wine.objects.filter(pk__in=initial_stock).values_list("pk", "stock"))
    for wine_id, initial in initial_stock.items():
        check.checked += 1
        taken = initial - current.get(wine_id, initial)
        if taken != held[wine_id]:
            check.wrong.append(
                f"wine #{wine_id}: {taken} bottles gone, orders hold {held[wine_id]}"
            )
    releases = Count("events", filter=Q(events__kind=OrderEvent.Kind.STOCK_RELEASED))
    for number, status, released in Order.objects.annotate(releases=releases).values_list(
        "number", "status", "releases"
    ):
        if released != (1 if status in RELEASED_STOCK else 0):
            check.wrong.append(f"{number} ({status}): stock released {released} times")
    return check


def _payments(check: Check) -> Check:
    paid = Count("events", filter=Q(events__to_status=Order.Status.PAID))
    for number, status, times in (
        Order.objects.annotate(paid=paid).values_list("number", "status", "paid").iterator()
    ):
        check.checked += 1
        if times > 1 or (status in PAID_ONCE and times != 1):
            check.wrong.append(f"{number} ({status}) paid {times} times")
    events = StripeEvent.objects.aggregate(all=Count("id"), ids=Count("event_id", distinct=True))
    if events["all"] != events["ids"]:
        check.wrong.append(f"{events['all'] - events['ids']} Stripe events stored twice")
    return check


def _emails(check: Check, *, sent: bool) -> Check:
    kinds = Counter(OrderEmail.objects.values_list("order_id", "kind"))
    succeeded = Counter(
        Refund.objects.filter(status=Refund.Status.SUCCEEDED).values_list("order_id", flat=True)
    )
    sends = Count("events", filter=Q(events__kind=OrderEvent.Kind.EMAIL))
    for pk, number, paid_at, email_events in Order.objects.annotate(sends=sends).values_list(
        "pk", "number", "paid_at", "sends"
    ):
        check.checked += 1
        # Nothing is mailed before the customer pays (orders.services.order_place).
        owed = {
            OrderEmail.Kind.CONFIRMATION: 0,
            OrderEmail.Kind.PAYMENT: int(paid_at is not None),
            OrderEmail.Kind.REFUND: succeeded[pk],  # each with its credit note
        }
        for kind, count in owed.items():
            if kinds[pk, kind] != count:
                check.wrong.append(f"{number}: {kinds[pk, kind]} {kind} emails owed, not {count}")
        if email_events > sum(owed.values()):
            check.wrong.append(f"{number}: {email_events} emails sent")
    if sent:
        unsent = OrderEmail.objects.filter(sent_at__isnull=True).count()
        if unsent:
            check.wrong.append(f"{unsent} emails never sent")
    return check


def _coupons(check: Check) -> Check:
    unreleased = Count("redemptions", filter=Q(redemptions__released_at__isnull=True))
    for code, uses, held in Coupon.objects.annotate(held=unreleased).values_list(
        "code", "uses", "held"
    ):
        check.checked += 1
        if uses != held:
            check.wrong.append(f"coupon {code}: {uses} uses, {held} unreleased redemptions")
    return check


def _sums(rows, key: str, field: str) -> dict:
    """Return the rows' field summed by key."""
    return dict(rows.order_by().values_list(key).annotate(total=Sum(field)))


def _refunds(check: Check) -> Check:
    committed = _sums(Refund.objects.exclude(status=Refund.Status.FAILED), "order", "amount")
    refunded = _sums(Refund.objects.filter(status=Refund.Status.SUCCEEDED), "order", "amount")
    for pk, number, order_committed, order_refunded in Order.objects.values_list(
        "pk", "number", "refunds_committed", "refunded_amount"
    ).iterator():
        check.checked += 1
        if order_committed != committed.get(pk, 0) or order_refunded != refunded.get(pk, 0):
            check.wrong.append(
                f"{number}: refunds {order_committed} committed and {order_refunded} refunded, "
                f"its refunds {quantize(committed.get(pk, 0))} and {quantize(refunded.get(pk, 0))}"
            )
    lines = RefundLine.objects.exclude(refund__status=Refund.Status.FAILED)
    taken = _sums(lines, "item", "quantity")
    restocking = lines.filter(refund__status=Refund.Status.SUCCEEDED, restock=True)
    put_back = _sums(restocking, "item", "quantity")
    items = OrderItem.objects.filter(Q(refunded_quantity__gt=0) | Q(pk__in=list(taken)))
    for pk, number, refunded_quantity, restocked_quantity in items.values_list(
        "pk", "order__number", "refunded_quantity", "restocked_quantity"
    ):
        if (refunded_quantity, restocked_quantity) != (taken.get(pk, 0), put_back.get(pk, 0)):
            check.wrong.append(
                f"{number}: line {pk} has {refunded_quantity} bottles refunded and "
                f"{restocked_quantity} restocked, its refund lines {taken.get(pk, 0)} and "
                f"{put_back.get(pk, 0)}"
            )
    return check


def books_check(*, initial_stock: dict[int, int], emails_sent: bool = True) -> list[Check]:
    """Check every order, wine, payment, email, coupon and refund in the database; return the
    checks.

    initial_stock maps wine ids to their stock before any order: each wine's missing bottles
    must be exactly those its stock-holding orders hold, less those their refunds put back on
    sale. With emails_sent, every email owed
    must have been sent by now.
    """
    return [
        _orders(Check("orders", WHAT["orders"])),
        _stock(Check("stock", WHAT["stock"]), initial_stock),
        _payments(Check("payments", WHAT["payments"])),
        _emails(Check("emails", WHAT["emails"]), sent=emails_sent),
        _coupons(Check("coupons", WHAT["coupons"])),
        _refunds(Check("refunds", WHAT["refunds"])),
    ]


def books_stripe_check(*, order_ids: list[int] | None = None) -> Check:
    """Check each paid order's money against Stripe's: what it paid less what its refunds gave
    back (refunded_amount) = what Stripe holds of its payment (the charge less its refunds that
    succeeded).

    One request to Stripe per paid order, so it is not part of books_check: run it where Stripe
    (or the sandbox) is at hand and the refunds have settled; order_ids, if given, bounds it to
    those orders. A payment Stripe does not know (an order paid by an event alone) is not
    counted.
    """
    check = Check("stripe", WHAT_STRIPE)
    orders = Order.objects.filter(paid_at__isnull=False).exclude(payment_intent="")
    if order_ids is not None:
        orders = orders.filter(pk__in=order_ids)
    for order in orders.only("number", "payment_intent", "total", "currency", "refunded_amount"):
        try:
            refunds = stripe_client.refund_list(payment_intent=order.payment_intent)
        except stripe.InvalidRequestError as error:
            if stripe_client.is_missing(error):
                continue
            raise
        check.checked += 1
        given_back = sum(
            (
                from_minor_units(refund["amount"], order.currency)
                for refund in refunds
                if refund.get("status") == "succeeded"
            ),
            Decimal(0),
        )
        if order.total - order.refunded_amount != order.total - given_back:
            check.wrong.append(
                f"{order.number}: {order.refunded_amount} refunded here, {quantize(given_back)} "
                "at Stripe"
            )
    return check


def discrepancies(checks: list[Check]) -> int:
    return sum(len(check.wrong) for check in checks)
