"""Refunds at Stripe: our refunds sent to Stripe, and what Stripe says of any refund applied to
the order's refunds exactly once, whatever the order and number of its answers and events.

A refund started in the admin is written pending (orders.refunds.refund_request) before Stripe is
asked: `refund_submit` then creates it at Stripe with an idempotency key naming the refund, no
lock held while Stripe answers, and applies the answer. Stripe's word about a refund, from the
create call, an event or a reconciliation, goes through `refund_object_apply`: matched to ours by
the refund id in its metadata (for the same order) or by Stripe's refund id, it succeeds or fails
it once through orders' services; a refund of no refund of ours that succeeded was made in
Stripe's dashboard and is recorded as an external refund, the order flagged for staff.
"""

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

import stripe
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.money import from_minor_units, money_format, to_minor_units
from orders.exceptions import RefundNotAllowed, RefundTooLarge
from orders.models import Order, Refund
from orders.refunds import (
    refund_fail,
    refund_record_external,
    refund_stripe_id_store,
    refund_succeed,
)
from orders.selectors import refund_get, refund_of_stripe
from orders.services import order_lock, order_payment_flag
from payments import stripe_client
from payments.models import StripeEvent
from payments.selectors import order_of_payment, refunds_to_reconcile

logger = logging.getLogger(__name__)

REFUND_EVENT_TYPES = {"refund.created", "refund.updated", "refund.failed"}
REFUND_REASON = "requested_by_customer"
FAILED_STATUSES = ("failed", "canceled")
PENDING_STATUSES = ("pending", "requires_action")
# What a webhook may wait for Stripe when an event asks it something.
EVENT_STRIPE_SECONDS = 5.0


@dataclass(frozen=True)
class RefundApplied:
    """What Stripe's word about one refund did: a StripeEvent outcome, the order, a note."""

    outcome: str
    order: Order | None = None
    note: str = ""


def refund_submit(*, refund_id: int) -> RefundApplied | None:
    """Ask Stripe for the money of a staff refund still pending and never sent, and apply its
    answer; return what it did, or None when the refund is not one to send.

    The refund was written before this is called, so no lock is held while Stripe answers: the
    idempotency key names the refund, so a second call (a retried task, the reconciliation)
    gets the refund Stripe already made. Stripe refusing it (more than is left, refunded
    already, disputed) fails the refund with Stripe's words and flags the order; Stripe away
    raises, for the task to try again.
    """
    refund = refund_get(refund_id=refund_id)
    if (
        refund is None
        or refund.kind != Refund.Kind.STAFF
        or refund.status != Refund.Status.PENDING
        or refund.stripe_refund_id
    ):
        return None
    return _refund_send(refund)


def _refund_send(refund: Refund) -> RefundApplied:
    order = refund.order
    try:
        answer = stripe_client.refund_create(
            payment_intent=order.payment_intent,
            amount_minor=to_minor_units(refund.amount, order.currency),
            currency=order.currency,
            refund_id=refund.pk,
            order_number=order.number,
            reason=REFUND_REASON,
        )
    except stripe.InvalidRequestError as error:
        message = error.user_message or str(error)
        with transaction.atomic():
            failed = refund_fail(refund_id=refund.pk, reason=f"Stripe refused it: {message}")
            if failed:
                # Stripe and the shop disagree on what is left to refund: staff look at both.
                order_payment_flag(
                    order=order_lock(order_id=order.pk),
                    reason=f"Stripe refused refund #{refund.pk} of {money_format(refund.amount)}"
                    f": {message}",
                )
        return RefundApplied(StripeEvent.Outcome.FLAGGED if failed else _outcome(False), order)
    return refund_object_apply(obj=answer)


def refund_object_apply(*, obj: dict) -> RefundApplied:
    """Apply what Stripe says of a refund (a Refund object, from an answer or an event) once.

    Ours (its metadata's refund id, of the same order, or its Stripe id): succeeded succeeds it,
    failed or canceled fails it with Stripe's reason, pending keeps its Stripe id. A status
    contradicting ours (an older event arriving late) is checked with Stripe first, so only
    Stripe's current word can flag the order. Not ours: one that succeeded was made in Stripe's
    dashboard and is recorded as an external refund (the order flagged for staff to allocate it).
    """
    stripe_refund_id = _text(obj, "id")
    status = _text(obj, "status")
    order = order_of_payment(payment_intent=_text(obj, "payment_intent"))
    refund, foreign = _refund_of(obj, order)
    if foreign:
        if order is None:
            return RefundApplied(StripeEvent.Outcome.UNKNOWN_ORDER)
        order_payment_flag(
            order=order,
            reason=f"Stripe refund {stripe_refund_id} names refund #{foreign}, which is not "
            f"one of order {order.number}'s: check it in Stripe.",
        )
        return RefundApplied(StripeEvent.Outcome.FLAGGED, order)
    if refund is None:
        return _external_apply(obj, order, stripe_refund_id, status)
    order = refund.order
    if _contradicts(refund, status) and stripe_refund_id:
        status = _status_now(stripe_refund_id, status)
        if _contradicts(refund, status) is False and status:
            return RefundApplied(StripeEvent.Outcome.NO_CHANGE, order, "An older word.")
    if status == "succeeded":
        changed = refund_succeed(refund_id=refund.pk, stripe_refund_id=stripe_refund_id)
    elif status in FAILED_STATUSES:
        changed = refund_fail(
            refund_id=refund.pk,
            reason=_failure(obj, status),
            stripe_refund_id=stripe_refund_id,
        )
    elif status in PENDING_STATUSES:
        changed = refund_stripe_id_store(refund_id=refund.pk, stripe_refund_id=stripe_refund_id)
    else:
        return RefundApplied(StripeEvent.Outcome.NO_CHANGE, order, f"Status {status!r}.")
    return RefundApplied(_outcome(changed), order)


def _refund_of(obj: dict, order: Order | None) -> tuple[Refund | None, str]:
    """Return (our refund the Stripe refund is, or None; the refund id its metadata names when
    that is no refund of this order's, else "")."""
    metadata = obj.get("metadata")
    named = metadata.get("refund_id") if isinstance(metadata, dict) else None
    if isinstance(named, str) and named:
        number = metadata.get("order_number")
        refund = None
        if named.isascii() and named.isdigit() and len(named) <= 18 and order is not None:
            refund = Refund.objects.filter(pk=int(named), order=order).first()
        if refund is None or (number and number != order.number):
            return None, named
        return refund, ""
    refund = refund_of_stripe(stripe_refund_id=_text(obj, "id"))
    if refund is not None and order is not None and refund.order_id != order.pk:
        return None, str(refund.pk)
    return refund, ""


def _contradicts(refund: Refund, status: str) -> bool | None:
    """Return whether Stripe's status contradicts our settled refund's (None: not settled)."""
    if refund.status == Refund.Status.PENDING:
        return None
    said_failed = status in FAILED_STATUSES
    if status != "succeeded" and not said_failed:
        return None
    return said_failed != (refund.status == Refund.Status.FAILED)


def _status_now(stripe_refund_id: str, said: str) -> str:
    """Return the refund's status at Stripe now; what was said when Stripe does not answer."""
    try:
        with stripe_client.time_budget(EVENT_STRIPE_SECONDS):
            return _text(stripe_client.refund_retrieve(stripe_refund_id=stripe_refund_id), "status")
    except stripe.StripeError as error:
        logger.warning("Stripe refund %s not checked: %s", stripe_refund_id, error)
        return said


def _external_apply(obj: dict, order: Order | None, stripe_refund_id: str, status: str):
    if order is None:
        return RefundApplied(StripeEvent.Outcome.UNKNOWN_ORDER)
    if status != "succeeded":
        # Recorded once the money is given back; a pending one is told again when it is.
        return RefundApplied(StripeEvent.Outcome.NO_CHANGE, order, f"Not ours, {status!r}.")
    amount, currency = obj.get("amount"), _text(obj, "currency", max_length=3)
    if type(amount) is not int or currency.lower() != order.currency.lower():
        order_payment_flag(
            order=order,
            reason=f"Stripe refund {stripe_refund_id} made outside the shop has an amount that "
            "can't be read: check it in Stripe.",
        )
        return RefundApplied(StripeEvent.Outcome.FLAGGED, order)
    try:
        with transaction.atomic():
            recorded = refund_record_external(
                order_id=order.pk,
                stripe_refund_id=stripe_refund_id,
                amount=from_minor_units(amount, currency),
                reason=_text(obj, "reason"),
            )
    except (RefundTooLarge, RefundNotAllowed) as refusal:
        order_payment_flag(
            order=order, reason=f"Stripe refund {stripe_refund_id} not recorded: {refusal}"
        )
        return RefundApplied(StripeEvent.Outcome.FLAGGED, order)
    if recorded is None:
        return RefundApplied(StripeEvent.Outcome.NO_CHANGE, order)
    return RefundApplied(StripeEvent.Outcome.FLAGGED, order, "Made in Stripe's dashboard.")


def refund_event_apply(*, event_type: str, obj: dict) -> RefundApplied:
    """Apply a refund event (refund.created/updated/failed, charge.refunded).

    charge.refunded only says that some money of the charge was refunded, not which refund:
    it reconciles, asking Stripe for every refund of the payment and applying each as its own
    event would. The charge's own fields are not enough (Stripe no longer lists the refunds in
    it), and a refund event that was lost is recovered this way.
    """
    if event_type in REFUND_EVENT_TYPES:
        return refund_object_apply(obj=obj)
    payment_intent = _text(obj, "payment_intent")
    order = order_of_payment(payment_intent=payment_intent)
    if order is None:
        return RefundApplied(StripeEvent.Outcome.UNKNOWN_ORDER)
    try:
        with stripe_client.time_budget(EVENT_STRIPE_SECONDS):
            refunds = stripe_client.refund_list(payment_intent=payment_intent)
    except stripe.StripeError as error:
        # Each refund's own events, and the reconciliation, still settle them.
        logger.warning("Refunds of %s not listed: %s", payment_intent, error)
        return RefundApplied(StripeEvent.Outcome.NO_CHANGE, order, "Stripe did not list them.")
    results = [refund_object_apply(obj=refund) for refund in reversed(refunds)]
    outcomes = {result.outcome for result in results}
    for outcome in (StripeEvent.Outcome.FLAGGED, StripeEvent.Outcome.APPLIED):
        if outcome in outcomes:
            return RefundApplied(outcome, order)
    return RefundApplied(StripeEvent.Outcome.NO_CHANGE, order)


def dispute_apply(*, obj: dict) -> RefundApplied:
    """Flag the disputed order for staff: Stripe has taken the money back until they answer."""
    order = order_of_payment(payment_intent=_text(obj, "payment_intent"))
    if order is None:
        return RefundApplied(StripeEvent.Outcome.UNKNOWN_ORDER)
    amount, currency = obj.get("amount"), _text(obj, "currency", max_length=3)
    said = (
        money_format(from_minor_units(amount, currency))
        if type(amount) is int and currency
        else "an amount that can't be read"
    )
    reason = _text(obj, "reason") or "no reason given"
    order_payment_flag(
        order=order,
        reason=f"The customer disputes the payment ({reason}, {said}, Stripe "
        f"{_text(obj, 'id')}): answer it in Stripe's dashboard before its deadline.",
    )
    return RefundApplied(StripeEvent.Outcome.FLAGGED, order)


def refund_reconcile(
    *, older_than_minutes: int = 5, batch_size: int = 100, deadline: float | None = None
) -> int:
    """Ask Stripe about staff refunds still pending after a few minutes; return how many
    changed.

    One with a Stripe id is retrieved; one without (the task never ran, a broker away, or its
    answer was lost) is looked for among the payment's refunds, by its id in their metadata,
    and sent again only when Stripe has none (the idempotency key lasts a day, the metadata
    for ever). At most batch_size, oldest first, until the deadline (time.monotonic()) or for
    STRIPE_RECONCILE_SECONDS.
    """
    if deadline is None:
        deadline = time.monotonic() + settings.STRIPE_RECONCILE_SECONDS
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    changed = 0
    for refund in refunds_to_reconcile(created_before=cutoff)[:batch_size]:
        try:
            result = _refund_ask(refund)
        except stripe.StripeError as error:
            logger.warning("Refund #%s not reconciled: %s", refund.pk, error)
            continue
        changed += result is not None and result.outcome == StripeEvent.Outcome.APPLIED
        if time.monotonic() >= deadline:
            break
    return changed


def _refund_ask(refund: Refund) -> RefundApplied | None:
    if refund.stripe_refund_id:
        return refund_object_apply(
            obj=stripe_client.refund_retrieve(stripe_refund_id=refund.stripe_refund_id)
        )
    order = refund.order
    for made in stripe_client.refund_list(payment_intent=order.payment_intent):
        metadata = made.get("metadata") or {}
        if metadata.get("refund_id") == str(refund.pk):
            return refund_object_apply(obj=made)
    return _refund_send(refund)


def _text(obj: dict, key: str, *, max_length: int = 255) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) and len(value) <= max_length else ""


def _failure(obj: dict, status: str) -> str:
    reason = _text(obj, "failure_reason")
    if status == "canceled":
        return "canceled in Stripe" + (f" ({reason})" if reason else "")
    return f"Stripe could not give the money back ({reason or 'no reason given'})"


def _outcome(changed: bool) -> str:
    return StripeEvent.Outcome.APPLIED if changed else StripeEvent.Outcome.NO_CHANGE
