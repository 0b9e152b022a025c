"""Refunds: money given back on a paid order, and the bottles that may go back on sale.

A refund started in the admin is written, pending, under the order's row lock before Stripe is
asked (`refund_requested` is announced on commit, for payments to ask it); Stripe's answer
settles it once: `refund_succeed` counts the money as given back and puts the returned bottles
back in stock, `refund_fail` gives back what the refund had taken of the order. A refund made in
Stripe's dashboard is recorded as it is (`refund_record_external`), and staff say later which
bottles it was for (`refund_allocate`). A paid order is canceled by refunding all that is left of
it (`order_cancel_refund`): it is canceled when that refund succeeds.

The counters on Order (`refunds_committed`, `refunded_amount`) and OrderItem
(`refunded_quantity`, `restocked_quantity`) move in the transaction that writes the refunds they
count, and the models' constraints keep them within what was paid and sold. Every service here
locks the order's row first, then the refund's, then the wines' in id order, as order_cancel
does: two of them never wait on each other the other way round.

What a line gives back is what was paid for it, in cents, by one rule (`split`):
- the order's total is split over its lines in proportion to their line totals, so each line
  bears its share of the coupon's discount;
- a line's share is split over its bottles, taken in turn: a line's first refund takes its
  first bottles, the next one the following, and the last bottles take what is left;
- an amount smaller than its lines' value (staff keeping part of it) is split over them in
  proportion to their values.
A split rounds the running total half up to cents (core.money.quantize), never each part on its
own: the parts add up to the whole exactly, none is a cent over its exact proportion, and an
order refunded in full, at once or bottle by bottle, gives back exactly its total. (A refund
that fails after a later one on the same line was written moves the later bottles' rounding by
a cent at most; what a line gives back never exceeds what is left of its share.)
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, F, Sum, When
from django.db.models.functions import Round
from django.template.defaultfilters import pluralize
from django.utils import timezone

from core.money import money_format, quantize
from orders.emails import order_email_queue
from orders.events import order_event_record
from orders.exceptions import RefundNotAllowed, RefundTooLarge
from orders.models import Order, OrderEmail, OrderEvent, OrderItem, Refund, RefundLine
from orders.services import (
    _change_status,
    _lock_wines,
    _move_stock,
    order_lock,
    order_payment_flag,
)
from orders.signals import announce_refund_requested, announce_refund_succeeded

ZERO = Decimal("0.00")
# A refund started in the admin gives back the money of an order the customer has paid.
REFUNDABLE = (Order.Status.PAID, Order.Status.SHIPPED)


@dataclass(frozen=True)
class RefundLineRequest:
    """Bottles of one order line to refund, and whether they go back on sale."""

    item_id: int
    quantity: int
    restock: bool = False


@dataclass(frozen=True)
class PricedLine:
    """A line of a refund as it will be written: the order line, its bottles and their money."""

    item: OrderItem
    quantity: int
    restock: bool
    amount: Decimal


def split(whole: Decimal, weights: Sequence[Decimal | int]) -> list[Decimal]:
    """Split whole into parts in proportion to weights, in cents, adding up to whole exactly.

    The running total is rounded half up, not each part: split(10, [1, 1, 1]) is
    [3.33, 3.34, 3.33]. Weights adding up to nothing get nothing.
    """
    of = sum((Decimal(weight) for weight in weights), Decimal(0))
    if of <= 0:
        return [ZERO for _ in weights]
    parts, running, before = [], Decimal(0), ZERO
    for weight in weights:
        running += Decimal(weight)
        upto = quantize(Decimal(whole) * running / of)
        parts.append(upto - before)
        before = upto
    return parts


def paid_shares(items: Iterable[OrderItem], *, total: Decimal) -> dict[int, Decimal]:
    """Return what was paid for each line of an order (by id): the total split over the lines,
    in id order, in proportion to their line totals."""
    items = sorted(items, key=lambda item: item.pk)
    parts = split(total, [item.line_total for item in items])
    return {item.pk: part for item, part in zip(items, parts, strict=True)}


def bottles_amount(*, share: Decimal, quantity: int, first: int, count: int) -> Decimal:
    """Return what count bottles of a line of quantity bottles gave, its first `first` bottles
    taken already: their part of the line's share split over its bottles."""
    return quantize(share * (first + count) / quantity) - quantize(share * first / quantity)


def _money_taken(order: Order) -> dict[int, Decimal]:
    """Return what the order's refunds that have not failed give back for each line."""
    rows = (
        RefundLine.objects.filter(refund__order=order)
        .exclude(refund__status=Refund.Status.FAILED)
        .order_by()
        .values_list("item_id")
        .annotate(taken=Sum("amount"))
    )
    return dict(rows)


def refund_lines_price(
    *, order: Order, items: Iterable[OrderItem], lines: Sequence[RefundLineRequest]
) -> list[PricedLine]:
    """Check the lines against the order's items and price each, in the items' id order.

    Raises RefundNotAllowed for a line not of the order, listed twice, of no bottle or to
    restock a wine no longer in the catalog, and RefundTooLarge for more bottles than are left.
    """
    items = list(items)
    by_id = {item.pk: item for item in items}
    # The delivery is no line's: bottles give back what the wine was paid, never the delivery.
    shares = paid_shares(items, total=order.total - order.delivery_charge)
    taken = _money_taken(order) if lines else {}
    priced: dict[int, PricedLine] = {}
    for line in lines:
        item = by_id.get(line.item_id)
        if item is None:
            raise RefundNotAllowed(f"Order {order.number} has no line {line.item_id}.")
        if item.pk in priced:
            raise RefundNotAllowed(f"{item.wine_name} is listed twice: list each line once.")
        if line.quantity < 1:
            raise RefundNotAllowed("Every quantity to refund must be at least 1.")
        left = item.refundable_quantity
        if line.quantity > left:
            raise RefundTooLarge(
                f"Only {left} bottle{pluralize(left)} of {item.wine_name} left to refund."
                if left
                else f"Every bottle of {item.wine_name} is refunded already."
            )
        if line.restock and item.wine_id is None:
            raise RefundNotAllowed(
                f"{item.wine_name} is no longer in the catalog: its bottles can't go back on sale."
            )
        amount = bottles_amount(
            share=shares[item.pk],
            quantity=item.quantity,
            first=item.refunded_quantity,
            count=line.quantity,
        )
        # Never more than is left of the line's share, whatever a failed refund moved.
        amount = max(min(amount, shares[item.pk] - taken.get(item.pk, ZERO)), ZERO)
        priced[item.pk] = PricedLine(item, line.quantity, line.restock, amount)
    return [priced[pk] for pk in sorted(priced)]


def _fit(priced: list[PricedLine], amount: Decimal) -> list[PricedLine]:
    """Return the lines with their amounts split from `amount` when it is less than they add
    up to; as they are otherwise."""
    if sum((line.amount for line in priced), ZERO) <= amount:
        return priced
    parts = split(amount, [line.amount for line in priced])
    return [
        PricedLine(line.item, line.quantity, line.restock, part)
        for line, part in zip(priced, parts, strict=True)
    ]


def refund_amount_price(
    *,
    order: Order,
    items: Iterable[OrderItem],
    lines: Sequence[RefundLineRequest] = (),
    amount: Decimal | None = None,
) -> tuple[Decimal, list[PricedLine]]:
    """Return the amount a refund of these lines (and this amount, if given) gives back, and
    its lines priced.

    Without an amount the refund gives back what the lines' bottles were paid. An amount alone
    is a goodwill refund, of no bottle; with lines, an amount below their value is split over
    them, one above it gives back more than the bottles (the rest tied to none). Raises
    RefundNotAllowed or RefundTooLarge (see refund_lines_price), and RefundTooLarge for more
    money than is left to refund on the order.
    """
    priced = refund_lines_price(order=order, items=items, lines=lines)
    if amount is None:
        if not priced:
            raise RefundNotAllowed("Choose the bottles to refund, or an amount.")
        amount = sum((line.amount for line in priced), ZERO)
        if amount <= 0:
            raise RefundNotAllowed(
                "Nothing was paid for these bottles: there is nothing to refund."
            )
    else:
        amount = quantize(amount)
        if amount <= 0:
            raise RefundNotAllowed("The amount to refund must be more than 0.")
        priced = _fit(priced, amount)
    left = order.total - order.refunds_committed
    if amount > left:
        raise RefundTooLarge(
            f"Only {money_format(left)} of order {order.number} is left to refund."
            if left > 0
            else f"Order {order.number} is refunded in full already."
        )
    return amount, priced


def _plus(field: str, amount: Decimal) -> Round:
    """Return the field plus amount, rounded to cents by the database: SQLite adds decimals as
    floats, where 0.63 + 1.26 is more than 1.89 and would break the constraints."""
    return Round(F(field) + amount, 2)


def _bottles_count(changes: dict[int, int], field: str) -> None:
    """Add changes[item_id] to the field of each order line, in one statement."""
    changes = {pk: delta for pk, delta in changes.items() if delta}
    if changes:
        OrderItem.objects.filter(pk__in=list(changes)).update(
            **{field: Case(*(When(pk=pk, then=F(field) + delta) for pk, delta in changes.items()))}
        )


def _restock(lines: Sequence[PricedLine | RefundLine]) -> int:
    """Put the bottles of the lines to restock back on their wines' stock, the wines locked in
    id order; count them on their order lines. Return how many bottles went back."""
    wanted: dict[int, int] = {}
    for line in lines:
        if line.restock and line.item.wine_id is not None:
            wanted[line.item.wine_id] = wanted.get(line.item.wine_id, 0) + line.quantity
    if not wanted:
        return 0
    wines = _lock_wines(wanted)
    changes = {pk: delta for pk, delta in wanted.items() if pk in wines}  # a wine deleted since
    if changes:
        _move_stock(changes, wines)
    _bottles_count(
        {
            line.item.pk: line.quantity
            for line in lines
            if line.restock and line.item.wine_id in changes
        },
        "restocked_quantity",
    )
    return sum(changes.values())


def _lines_said(lines: Iterable[PricedLine | RefundLine]) -> str:
    said = [
        f"{line.quantity} × {line.item.wine_name}" + (" (back on sale)" if line.restock else "")
        for line in lines
    ]
    return ", ".join(said) if said else "no bottle"


def _lock(refund_id: int) -> tuple[Order, Refund]:
    """Lock the refund's order, then the refund: the order every refund service takes them in."""
    order_id = Refund.objects.values_list("order_id", flat=True).get(pk=refund_id)
    order = order_lock(order_id=order_id)
    return order, Refund.objects.select_for_update().get(pk=refund_id)


def _stripe_id_keep(order: Order, refund: Refund, stripe_refund_id: str) -> bool:
    """Keep Stripe's id of the refund if it has none yet; return whether it was kept.

    A second Stripe refund for one of ours is money given back twice: staff are told.
    """
    if not stripe_refund_id or stripe_refund_id == refund.stripe_refund_id:
        return False
    if refund.stripe_refund_id:
        order_payment_flag(
            order=order,
            reason=f"Stripe reported a second refund ({stripe_refund_id}) for refund "
            f"#{refund.pk}, already {refund.stripe_refund_id}: check what was given back.",
        )
        return False
    refund.stripe_refund_id = stripe_refund_id
    return True


def _lines_write(refund: Refund, priced) -> None:
    RefundLine.objects.bulk_create(
        RefundLine(
            refund=refund,
            item=line.item,
            quantity=line.quantity,
            restock=line.restock,
            amount=line.amount,
        )
        for line in priced
    )


@transaction.atomic
def refund_request(
    *,
    order_id: int,
    lines: Sequence[RefundLineRequest] = (),
    amount: Decimal | None = None,
    reason: str,
    actor,
) -> Refund:
    """Write a pending refund of the order's lines (or of an amount alone, a goodwill gesture)
    for Stripe to be asked, and announce it when committed.

    The bottles and the money are taken from what is left to refund at once, under the order's
    row lock, so that two refunds of the same bottles can't both be written. The amounts are
    priced by refund_amount_price. Raises RefundNotAllowed for an order that is not paid (an
    unpaid order is canceled, not refunded) and RefundTooLarge past what is left.
    """
    order = order_lock(order_id=order_id)
    if order.status not in REFUNDABLE:
        raise RefundNotAllowed(
            f"Order {order.number} is not paid: an unpaid order is canceled, not refunded."
            if order.status == Order.Status.PENDING
            else f"Order {order.number} is {order.get_status_display().lower()}: "
            "it can't be refunded."
        )
    amount, priced = refund_amount_price(
        order=order, items=order.items.all(), lines=lines, amount=amount
    )
    refund = Refund.objects.create(
        order=order,
        kind=Refund.Kind.STAFF,
        status=Refund.Status.PENDING,
        amount=amount,
        reason=reason,
        created_by=actor,
    )
    _lines_write(refund, priced)
    Order.objects.filter(pk=order.pk).update(
        refunds_committed=_plus("refunds_committed", amount), updated=timezone.now()
    )
    _bottles_count({line.item.pk: line.quantity for line in priced}, "refunded_quantity")
    order_event_record(
        order_id=order.pk,
        kind=OrderEvent.Kind.REFUND,
        message=f"Refund #{refund.pk} of {money_format(amount)} requested: "
        f"{_lines_said(priced)}." + (f" Reason: {reason}" if reason else ""),
        actor=actor,
    )
    announce_refund_requested(refund)
    return refund


@transaction.atomic
def order_cancel_refund(*, order_id: int, restock: dict[int, bool], reason: str, actor) -> Refund:
    """Request the refund of all that is left of a paid order, which cancels the order when it
    succeeds (refund_succeed).

    Every bottle not refunded yet is refunded, those of the lines restock says (by line id) go
    back on sale, and the money left to refund is given back. Raises RefundNotAllowed for an
    order not paid or shipped already, for lines not of the order and when nothing is left to
    refund, and InvalidTransition as refund_request does.
    """
    order = order_lock(order_id=order_id)
    if order.status != Order.Status.PAID:
        raise RefundNotAllowed(
            f"Order {order.number} is {order.get_status_display().lower()}: only a paid order "
            "not yet shipped is canceled and refunded."
        )
    items = list(order.items.all())
    if set(restock) - {item.pk for item in items}:
        raise RefundNotAllowed(f"Order {order.number} has no such line.")
    left = order.total - order.refunds_committed
    if left <= 0:
        raise RefundNotAllowed(
            f"Order {order.number} has nothing left to refund: its refunds are under way or done."
        )
    lines = [
        RefundLineRequest(item.pk, item.refundable_quantity, restock.get(item.pk, False))
        for item in items
        if item.refundable_quantity
    ]
    refund = refund_request(order_id=order.pk, lines=lines, amount=left, reason=reason, actor=actor)
    Refund.objects.filter(pk=refund.pk).update(cancels_order=True)
    refund.cancels_order = True
    order_event_record(
        order_id=order.pk,
        kind=OrderEvent.Kind.REFUND,
        message=f"The order is canceled when refund #{refund.pk} succeeds.",
        actor=actor,
    )
    return refund


def _cancel_refunded(order: Order, refund: Refund) -> None:
    """Cancel the order its succeeded refund was to cancel, if it was not shipped meanwhile."""
    if order.status == Order.Status.PAID:
        _change_status(
            order.pk,
            allowed_from={Order.Status.PAID},
            to=Order.Status.CANCELED,
            actor=refund.created_by,
            message=f"Order canceled: refund #{refund.pk} succeeded.",
            canceled_at=timezone.now(),
        )
    else:
        order_payment_flag(
            order=order,
            reason=f"Refund #{refund.pk} to cancel the order succeeded, but the order is "
            f"{order.get_status_display().lower()}: check what was sent.",
        )


def _settled_already(order, refund: Refund, *, kept: bool, contradicted: str, reason: str) -> None:
    """Keep Stripe's id on a refund settled before; flag the order if Stripe now says otherwise."""
    if kept:
        refund.save(update_fields=["stripe_refund_id"])
    if refund.status == contradicted:
        order_payment_flag(order=order, reason=reason)


@transaction.atomic
def refund_succeed(*, refund_id: int, stripe_refund_id: str = "") -> bool:
    """Record Stripe's word that the refund succeeded; return whether it succeeded now.

    Applied once: the money is counted as given back and the bottles to restock go back on
    sale. A refund that succeeded already, or failed, is left as it is.
    """
    order, refund = _lock(refund_id)
    kept = _stripe_id_keep(order, refund, stripe_refund_id)
    if refund.status != Refund.Status.PENDING:
        _settled_already(
            order,
            refund,
            kept=kept,
            contradicted=Refund.Status.FAILED,
            reason=f"Stripe reported refund #{refund.pk} succeeded after it had failed: "
            "the money may have been given back; check it in Stripe.",
        )
        return False
    refund.status, refund.succeeded_at = Refund.Status.SUCCEEDED, timezone.now()
    refund.save(update_fields=["status", "succeeded_at", "stripe_refund_id"])
    Order.objects.filter(pk=order.pk).update(
        refunded_amount=_plus("refunded_amount", refund.amount), updated=timezone.now()
    )
    restocked = _restock(list(refund.lines.select_related("item")))
    order_event_record(
        order_id=order.pk,
        kind=OrderEvent.Kind.REFUND,
        message=f"Refund #{refund.pk} of {money_format(refund.amount)} succeeded"
        + (f" (Stripe {refund.stripe_refund_id})" if refund.stripe_refund_id else "")
        + (f"; {restocked} bottle{pluralize(restocked)} back in stock." if restocked else "."),
    )
    if refund.cancels_order:
        _cancel_refunded(order, refund)
    order_email_queue(order_id=order.pk, kind=OrderEmail.Kind.REFUND, refund_id=refund.pk)
    announce_refund_succeeded(refund)
    return True


@transaction.atomic
def refund_fail(*, refund_id: int, reason: str, stripe_refund_id: str = "") -> bool:
    """Record that the refund failed; return whether it failed now.

    Applied once, to a pending refund: its bottles and money are left to refund again, and
    nothing goes back on sale.
    """
    order, refund = _lock(refund_id)
    kept = _stripe_id_keep(order, refund, stripe_refund_id)
    if refund.status != Refund.Status.PENDING:
        # Stripe may fail a refund it said had succeeded (the customer's bank refused it).
        _settled_already(
            order,
            refund,
            kept=kept,
            contradicted=Refund.Status.SUCCEEDED,
            reason=f"Stripe reported refund #{refund.pk} failed after it had succeeded "
            f"({reason}): the money did not reach the customer; check it in Stripe.",
        )
        return False
    refund.status, refund.failed_at, refund.failure_reason = (
        Refund.Status.FAILED,
        timezone.now(),
        reason,
    )
    refund.save(update_fields=["status", "failed_at", "failure_reason", "stripe_refund_id"])
    Order.objects.filter(pk=order.pk).update(
        refunds_committed=_plus("refunds_committed", -refund.amount), updated=timezone.now()
    )
    _bottles_count(
        {line.item_id: -line.quantity for line in refund.lines.all()}, "refunded_quantity"
    )
    order_event_record(
        order_id=order.pk,
        kind=OrderEvent.Kind.REFUND,
        message=f"Refund #{refund.pk} of {money_format(refund.amount)} failed: {reason}. "
        "Nothing was given back.",
    )
    return True


@transaction.atomic
def refund_stripe_id_store(*, refund_id: int, stripe_refund_id: str) -> bool:
    """Keep the id Stripe gave the refund (it may answer before the refund is settled); return
    whether it was stored now."""
    order, refund = _lock(refund_id)
    if not _stripe_id_keep(order, refund, stripe_refund_id):
        return False
    refund.save(update_fields=["stripe_refund_id"])
    order_event_record(
        order_id=order.pk,
        kind=OrderEvent.Kind.REFUND,
        message=f"Refund #{refund.pk} sent to Stripe ({stripe_refund_id}).",
    )
    return True


@transaction.atomic
def refund_record_external(
    *, order_id: int, stripe_refund_id: str, amount: Decimal, reason: str = ""
) -> Refund | None:
    """Record a refund made in Stripe's dashboard, which no refund of ours is; return it, or
    None when it was recorded already.

    It succeeded as it is recorded, with no lines: the order is flagged for staff to say which
    bottles it was for (refund_allocate). Raises RefundNotAllowed for an order never paid and
    RefundTooLarge for more than is left to refund (the caller flags the order then).
    """
    if not stripe_refund_id:
        raise RefundNotAllowed("A refund made in Stripe is recorded with its Stripe id.")
    order = order_lock(order_id=order_id)
    if Refund.objects.filter(stripe_refund_id=stripe_refund_id).exists():
        return None
    if order.paid_at is None:
        raise RefundNotAllowed(f"Order {order.number} was never paid: nothing can be refunded.")
    amount = quantize(amount)
    if amount <= 0:
        raise RefundNotAllowed("The amount to refund must be more than 0.")
    left = order.total - order.refunds_committed
    if amount > left:
        raise RefundTooLarge(
            f"Stripe refunded {money_format(amount)} of order {order.number}, which has "
            f"{money_format(left)} left to refund."
        )
    refund = Refund.objects.create(
        order=order,
        kind=Refund.Kind.EXTERNAL,
        status=Refund.Status.SUCCEEDED,
        amount=amount,
        reason=reason,
        stripe_refund_id=stripe_refund_id,
        succeeded_at=timezone.now(),
        allocated=False,
    )
    Order.objects.filter(pk=order.pk).update(
        refunds_committed=_plus("refunds_committed", amount),
        refunded_amount=_plus("refunded_amount", amount),
        updated=timezone.now(),
    )
    order_event_record(
        order_id=order.pk,
        kind=OrderEvent.Kind.REFUND,
        message=f"Refund #{refund.pk} of {money_format(amount)} made in Stripe's dashboard "
        f"({stripe_refund_id})." + (f" Reason: {reason}" if reason else ""),
    )
    order_payment_flag(
        order=order,
        reason=f"A refund of {money_format(amount)} was made in Stripe's dashboard "
        f"({stripe_refund_id}): allocate it to lines, saying which bottles go back on sale.",
    )
    order_email_queue(order_id=order.pk, kind=OrderEmail.Kind.REFUND, refund_id=refund.pk)
    announce_refund_succeeded(refund)
    return refund


@transaction.atomic
def refund_allocate(*, refund_id: int, lines: Sequence[RefundLineRequest], actor) -> Refund:
    """Say which bottles a refund made in Stripe's dashboard was for, once.

    The bottles are taken from what is left to refund, and those to restock go back on sale at
    once (the money was given back already). Lines worth more than the refund share its amount.
    No lines says it was for no bottle. Raises RefundNotAllowed for a refund started in the
    admin or allocated already, and as refund_lines_price does.
    """
    order, refund = _lock(refund_id)
    if refund.kind != Refund.Kind.EXTERNAL:
        raise RefundNotAllowed(f"Refund #{refund.pk} was started with its lines.")
    if refund.allocated:
        raise RefundNotAllowed(f"Refund #{refund.pk} is allocated to lines already.")
    items = list(order.items.all())
    priced = _fit(refund_lines_price(order=order, items=items, lines=lines), refund.amount)
    _lines_write(refund, priced)
    _bottles_count({line.item.pk: line.quantity for line in priced}, "refunded_quantity")
    restocked = _restock(priced)
    refund.allocated = True
    refund.save(update_fields=["allocated"])
    order_event_record(
        order_id=order.pk,
        kind=OrderEvent.Kind.REFUND,
        message=f"Refund #{refund.pk} of {money_format(refund.amount)} allocated: "
        f"{_lines_said(priced)}"
        + (f"; {restocked} bottle{pluralize(restocked)} back in stock." if restocked else "."),
        actor=actor,
    )
    return refund
