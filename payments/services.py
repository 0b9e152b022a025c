"""What Stripe's events do to orders: each event is stored once, then applied once."""

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from orders.models import Order
from orders.services import mark_paid, mark_refunded, release_unpaid
from payments.models import StripeEvent

logger = logging.getLogger(__name__)

PAID_TYPES = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
UNPAID_TYPES = {"checkout.session.async_payment_failed", "checkout.session.expired"}


@dataclass(frozen=True)
class Applied:
    outcome: str
    order: Order | None = None
    note: str = ""


def payment_apply(*, event: dict) -> StripeEvent | None:
    """Store a verified Stripe event and apply it; return None for an event seen before.

    The event row and its effect commit together: if applying fails, neither is kept and
    Stripe's next delivery tries again; a second delivery of a stored event changes nothing.
    """
    try:
        with transaction.atomic():
            stored = StripeEvent.objects.create(
                event_id=event["id"],
                type=event["type"],
                livemode=bool(event.get("livemode")),
                payload=event,
                outcome=StripeEvent.Outcome.IGNORED,
            )
            result = _apply(event["type"], event["data"]["object"])
            stored.outcome, stored.order, stored.note = result.outcome, result.order, result.note
            stored.save(update_fields=["outcome", "order", "note"])
    except IntegrityError:
        if StripeEvent.objects.filter(event_id=event["id"]).exists():
            return None  # a duplicate delivery
        raise
    if result.outcome == StripeEvent.Outcome.UNKNOWN_ORDER:
        logger.warning("Stripe event %s (%s) names no order of ours.", event["id"], event["type"])
    return stored


def _apply(event_type: str, obj: dict) -> Applied:
    if event_type in PAID_TYPES | UNPAID_TYPES:
        order = _order_of_session(obj)
        if order is None:
            return Applied(StripeEvent.Outcome.UNKNOWN_ORDER)
        if event_type in UNPAID_TYPES:
            changed = release_unpaid(order_id=order.pk)
            return Applied(_outcome(changed), order)
        if obj.get("payment_status") != "paid":
            return Applied(StripeEvent.Outcome.NO_CHANGE, order, "Payment not completed yet.")
        changed = mark_paid(
            order_id=order.pk,
            payment_intent=obj.get("payment_intent") or "",
            amount_minor=int(obj.get("amount_total") or 0),
            currency=obj.get("currency") or "",
        )
        order.refresh_from_db(fields=["payment_flagged"])
        if not changed and order.payment_flagged:
            return Applied(StripeEvent.Outcome.FLAGGED, order)
        return Applied(_outcome(changed), order)
    if event_type == "charge.refunded":
        intent = obj.get("payment_intent") or ""
        order = Order.objects.filter(payment_intent=intent).first() if intent else None
        if order is None:
            return Applied(StripeEvent.Outcome.UNKNOWN_ORDER)
        return Applied(_outcome(mark_refunded(order_id=order.pk, payment_intent=intent)), order)
    return Applied(StripeEvent.Outcome.IGNORED)


def _outcome(changed: bool) -> str:
    return StripeEvent.Outcome.APPLIED if changed else StripeEvent.Outcome.NO_CHANGE


def _order_of_session(session: dict) -> Order | None:
    """Return the order a Checkout Session was made for, if its id and number agree."""
    reference = str(session.get("client_reference_id") or "")
    if not reference.isascii() or not reference.isdigit() or len(reference) > 18:
        return None
    order = Order.objects.filter(pk=int(reference)).first()
    number = (session.get("metadata") or {}).get("order_number")
    if order is None or (number and number != order.number):
        return None
    return order
