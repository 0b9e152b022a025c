"""What Stripe's events do to orders: each event is stored once, then applied once."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.models import Order, OrderEvent
from orders.services import mark_paid, mark_refunded, release_unpaid
from payments import stripe_client
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
            if order.stripe_session_id and obj.get("id") != order.stripe_session_id:
                # A session the customer left for a newer one: the order waits on that one.
                return Applied(StripeEvent.Outcome.NO_CHANGE, order, "An earlier session.")
            changed = release_unpaid(order_id=order.pk)
            return Applied(_outcome(changed), order)
        if obj.get("payment_status") != "paid":
            return Applied(StripeEvent.Outcome.NO_CHANGE, order, "Payment not completed yet.")
        amount = obj.get("amount_total")
        changed = mark_paid(
            order_id=order.pk,
            payment_intent=_text(obj, "payment_intent", max_length=255),
            amount_minor=amount if type(amount) is int else 0,  # not an amount: flagged
            currency=_text(obj, "currency", max_length=3),
        )
        order.refresh_from_db(fields=["payment_flagged"])
        if not changed and order.payment_flagged:
            return Applied(StripeEvent.Outcome.FLAGGED, order)
        return Applied(_outcome(changed), order)
    if event_type == "charge.refunded":
        intent = _text(obj, "payment_intent", max_length=255)
        order = Order.objects.filter(payment_intent=intent).first() if intent else None
        if order is None:
            return Applied(StripeEvent.Outcome.UNKNOWN_ORDER)
        return Applied(_outcome(mark_refunded(order_id=order.pk, payment_intent=intent)), order)
    return Applied(StripeEvent.Outcome.IGNORED)


def _text(obj: dict, key: str, *, max_length: int) -> str:
    """Return the field if it is text that fits, else "" (Stripe's fields are never otherwise)."""
    value = obj.get(key)
    return value if isinstance(value, str) and len(value) <= max_length else ""


def _outcome(changed: bool) -> str:
    return StripeEvent.Outcome.APPLIED if changed else StripeEvent.Outcome.NO_CHANGE


def _order_of_session(session: dict) -> Order | None:
    """Return the order a Checkout Session was made for, if its id and number agree."""
    reference = str(session.get("client_reference_id") or "")
    if not reference.isascii() or not reference.isdigit() or len(reference) > 18:
        return None
    order = Order.objects.filter(pk=int(reference)).first()
    metadata = session.get("metadata")
    number = metadata.get("order_number") if isinstance(metadata, dict) else None
    if order is None or (number and number != order.number):
        return None
    return order


def checkout_session_for(*, order: Order, success_url: str, cancel_url: str) -> str:
    """Return the address of a payable Checkout Session for the pending order.

    An order keeps one open session: paying twice must not be possible, so an open session is
    reused, and a new one is made only when the last one can no longer be paid.
    """
    if order.stripe_session_id:
        session = stripe_client.retrieve_checkout_session(order.stripe_session_id)
        if session.status == "open":
            return session.url
        if session.status == "complete":
            return success_url  # paid; the webhook or reconciliation records it
    session = stripe_client.create_checkout_session(
        order=order, success_url=success_url, cancel_url=cancel_url
    )
    Order.objects.filter(pk=order.pk).update(stripe_session_id=session.id)
    OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.PAYMENT,
        message=f"Customer sent to Stripe Checkout ({session.id}).",
    )
    return session.url


def reconcile_pending(*, older_than_minutes: int = 10, limit: int = 200) -> int:
    """Ask Stripe about pending orders whose webhook has not come; return how many changed.

    The answer goes through the same path as the webhook's, so a missed event never leaves a
    paid order pending, nor an expired session's bottles held.
    """
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    pending = Order.objects.filter(status=Order.Status.PENDING, created__lt=cutoff).exclude(
        stripe_session_id=""
    )
    changed = 0
    for session_id in pending.values_list("stripe_session_id", flat=True)[:limit]:
        session = stripe_client.retrieve_checkout_session(session_id).to_dict()
        if session.get("status") == "complete" and session.get("payment_status") == "paid":
            result = _apply("checkout.session.completed", session)
        elif session.get("status") == "expired":
            result = _apply("checkout.session.expired", session)
        else:
            continue
        changed += result.outcome == StripeEvent.Outcome.APPLIED
    return changed
