"""What Stripe's events do to orders: each event is stored once, then applied once."""

import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

import stripe
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.queue import publish
from orders.models import Order
from orders.services import (
    order_checkout_session_store,
    order_lock,
    order_mark_paid,
    order_note_add,
    order_payment_declined,
    order_release_unpaid,
)
from payments import stripe_client
from payments.exceptions import CheckoutUnavailable
from payments.models import StripeEvent
from payments.refunds import REFUND_EVENT_TYPES, dispute_apply, refund_event_apply, refund_reconcile
from payments.selectors import (
    MISSING_SESSION_NOTE,
    order_get,
    order_of_checkout_session,
    order_of_payment_intent,
    orders_to_reconcile,
    waiting_events,
)

logger = logging.getLogger(__name__)

RECONCILE_CURSOR_KEY = "payments:reconcile:after"
PAID_TYPES = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
UNPAID_TYPES = {"checkout.session.async_payment_failed", "checkout.session.expired"}
# A card declined on Checkout's page: the session stays open for another try.
DECLINED_TYPE = "payment_intent.payment_failed"


@dataclass(frozen=True)
class Applied:
    outcome: str
    order: Order | None = None
    note: str = ""


def payment_receive(*, event: dict) -> StripeEvent | None:
    """Store a verified Stripe event by its id and queue it to be applied; return None for an
    event stored before.

    Stripe is answered as soon as the event is stored: a worker applies it (payment_apply). A
    re-delivery of an event still waiting queues it again, so Stripe's retries stand in for a
    publish the broker missed, and the "Apply received Stripe events" job applies whatever still
    waits a minute later.
    """
    # Alone, the INSERT commits by itself; in a caller's transaction a savepoint keeps a
    # duplicate's refusal from breaking it.
    alone = transaction.get_autocommit()
    try:
        with nullcontext() if alone else transaction.atomic():
            stored = StripeEvent.objects.create(
                event_id=event["id"],
                type=event["type"],
                livemode=bool(event.get("livemode")),
                payload=event,
                outcome=StripeEvent.Outcome.RECEIVED,
            )
    except IntegrityError:
        stored = StripeEvent.objects.filter(event_id=event["id"]).values("pk", "outcome").first()
        if stored is None:
            raise
        if stored["outcome"] == StripeEvent.Outcome.RECEIVED:
            _queue_apply(stored["pk"])
        return None  # a duplicate delivery
    _queue_apply(stored.pk)
    return stored


def _queue_apply(stripe_event_id: int) -> None:
    from payments import tasks

    later = "Apply received Stripe events applies it"
    transaction.on_commit(lambda: publish(tasks.payment_apply, stripe_event_id, meanwhile=later))


def payment_apply(*, stripe_event_id: int) -> StripeEvent | None:
    """Apply a stored Stripe event; return it, or None when it was applied before.

    The event is claimed with one conditional UPDATE and its outcome commits with its effect:
    of two workers handed the same event, one applies it and the other finds it done; a failure
    leaves it waiting for a retry.
    """
    with transaction.atomic():
        claimed = StripeEvent.objects.filter(pk=stripe_event_id, applied__isnull=True).update(
            applied=timezone.now()
        )
        if not claimed:
            return None
        stored = StripeEvent.objects.get(pk=stripe_event_id)
        result = _apply(stored.type, stored.payload["data"]["object"])
        stored.outcome, stored.order, stored.note = result.outcome, result.order, result.note
        stored.save(update_fields=["outcome", "order", "note"])
    if result.outcome == StripeEvent.Outcome.UNKNOWN_ORDER:
        logger.warning("Stripe event %s (%s) names no order of ours.", stored.event_id, stored.type)
    return stored


def payment_apply_waiting(*, received_before: datetime, batch_size: int = 500) -> int:
    """Apply the stored events still waiting since before `received_before`, oldest first (their
    task was lost with the broker, or failed); return how many this call applied."""
    applied = 0
    for stripe_event_id in waiting_events(received_before=received_before)[:batch_size]:
        try:
            applied += payment_apply(stripe_event_id=stripe_event_id) is not None
        except Exception:  # one event that can't be applied must not hold up the others
            logger.exception("Stripe event id %s could not be applied.", stripe_event_id)
    return applied


def _apply(event_type: str, obj: dict) -> Applied:
    if event_type in PAID_TYPES | UNPAID_TYPES:
        order = order_of_checkout_session(session=obj)
        if order is None:
            return Applied(StripeEvent.Outcome.UNKNOWN_ORDER)
        if event_type in UNPAID_TYPES:
            if order.stripe_session_id and obj.get("id") != order.stripe_session_id:
                # A session the customer left for a newer one: the order waits on that one.
                return Applied(StripeEvent.Outcome.NO_CHANGE, order, "An earlier session.")
            changed = order_release_unpaid(order_id=order.pk)
            return Applied(_outcome(changed), order)
        if obj.get("payment_status") != "paid":
            return Applied(StripeEvent.Outcome.NO_CHANGE, order, "Payment not completed yet.")
        amount = obj.get("amount_total")
        changed = order_mark_paid(
            order_id=order.pk,
            payment_intent=_text(obj, "payment_intent", max_length=255),
            amount_minor=amount if type(amount) is int else 0,  # not an amount: flagged
            currency=_text(obj, "currency", max_length=3),
        )
        if changed:
            return Applied(StripeEvent.Outcome.APPLIED, order)
        order.refresh_from_db(fields=["payment_flagged"])
        if order.payment_flagged:
            return Applied(StripeEvent.Outcome.FLAGGED, order)
        return Applied(StripeEvent.Outcome.NO_CHANGE, order)
    if event_type == DECLINED_TYPE:
        order = order_of_payment_intent(payment_intent=obj)
        if order is None:
            return Applied(StripeEvent.Outcome.UNKNOWN_ORDER)
        order_payment_declined(order_id=order.pk, reason=_decline_reason(obj))
        return Applied(StripeEvent.Outcome.APPLIED, order)
    if event_type in REFUND_EVENT_TYPES | {"charge.refunded"}:
        result = refund_event_apply(event_type=event_type, obj=obj)
        return Applied(result.outcome, result.order, result.note)
    if event_type == "charge.dispute.created":
        result = dispute_apply(obj=obj)
        return Applied(result.outcome, result.order, result.note)
    return Applied(StripeEvent.Outcome.IGNORED)


def _text(obj: dict, key: str, *, max_length: int) -> str:
    """Return the field if it is text that fits, else "" (Stripe's fields are never otherwise)."""
    value = obj.get(key)
    return value if isinstance(value, str) and len(value) <= max_length else ""


def _decline_reason(intent: dict) -> str:
    """Return why Stripe says the PaymentIntent's last payment failed, in a line."""
    error = intent.get("last_payment_error")
    error = error if isinstance(error, dict) else {}
    message = _text(error, "message", max_length=500) or "no reason given"
    code = _text(error, "decline_code", max_length=100) or _text(error, "code", max_length=100)
    reason = f"{message} ({code})" if code else message
    return " ".join(reason.split())  # one line of text, whatever Stripe sent


def _outcome(changed: bool) -> str:
    return StripeEvent.Outcome.APPLIED if changed else StripeEvent.Outcome.NO_CHANGE


def checkout_session_ensure(*, order_id: int, success_url: str, cancel_url: str) -> str | None:
    """Return the address of a payable Checkout Session for the pending order, or None when the
    order is no longer pending; raise CheckoutUnavailable when Stripe does not make one.

    An order keeps one open session: paying twice must not be possible, so an open session is
    reused, and a new one is made only when the last one can no longer be paid. The order's row
    stays locked meanwhile, so a double click waits for the first click's session and gets it.
    """
    try:
        with transaction.atomic():
            order = order_lock(order_id=order_id)
            if order.status != Order.Status.PENDING:
                return None
            if order.stripe_session_id:
                try:
                    session = stripe_client.retrieve_checkout_session(order.stripe_session_id)
                except stripe.InvalidRequestError as error:
                    if not stripe_client.is_missing(error):
                        raise
                    session = None  # Stripe no longer knows it (a sandbox restarted): make another
                if session is not None and session.status == "open":
                    return session.url
                if session is not None and session.status == "complete":
                    return success_url  # paid; the webhook or reconciliation records it
            session = stripe_client.create_checkout_session(
                order=order,
                success_url=success_url,
                cancel_url=cancel_url,
                replaces=order.stripe_session_id,
            )
            order_checkout_session_store(order_id=order.pk, session_id=session.id)
    except stripe.StripeError as error:
        raise CheckoutUnavailable(
            "Our payment provider did not answer. Your order is saved: please try again in a "
            "moment."
        ) from error
    return session.url


def checkout_session_expire(*, order_id: int) -> bool:
    """Expire the Checkout Session of an order that no longer waits for payment; return whether
    this call expired it.

    Safe to repeat: a session that is not open (paid, expired, or unknown to Stripe) is left as
    it is.
    """
    order = order_get(order_id=order_id)
    if order is None or not order.stripe_session_id or order.status == Order.Status.PENDING:
        return False
    try:
        session = stripe_client.retrieve_checkout_session(order.stripe_session_id)
        if session.status != "open":
            return False
        stripe_client.expire_checkout_session(order.stripe_session_id)
    except stripe.InvalidRequestError as error:
        # Missing, or closed between the two calls (Stripe refuses to expire a closed session).
        logger.info(
            "Checkout Session %s of %s not expired: %s",
            order.stripe_session_id,
            order,
            error.user_message,
        )
        return False
    return True


def payment_reconcile(*, older_than_minutes: int = 10, batch_size: int = 200) -> int:
    """Ask Stripe about pending orders whose webhook has not come, and about refunds still
    pending (payments.refunds.refund_reconcile); return how many changed.

    The answer goes through the same path as the webhook's, so a missed event never leaves a
    paid order pending, nor an expired session's bottles held. Orders are walked by id in
    batches for up to STRIPE_RECONCILE_SECONDS; a run that stops short leaves a cursor where the
    next one starts, so every pending order is looked at in turn, however many there are.
    """
    deadline = time.monotonic() + settings.STRIPE_RECONCILE_SECONDS
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    # A session Stripe said it does not know is noted on the order once, and not asked again.
    pending = orders_to_reconcile(placed_before=cutoff)
    changed = 0
    for order_id, session_id in _walk(pending, start_after=_cursor(), batch_size=batch_size):
        changed += _reconcile(order_id, session_id)
        if time.monotonic() >= deadline:
            _cursor(order_id)
            break
    else:
        _cursor(0)  # a full round: the next run starts from the oldest
    # The refunds' turn, within what is left of the run's time: at least one is asked about.
    return changed + refund_reconcile(deadline=deadline)


def _cursor(order_id: int | None = None) -> int:
    """Return the id where the last run stopped, or set it; a cache away means from the start."""
    try:
        if order_id is None:
            return cache.get(RECONCILE_CURSOR_KEY, 0)
        cache.set(RECONCILE_CURSOR_KEY, order_id, None)
    except Exception:  # the cache only saves work here: its failure must not stop reconciling
        logger.warning("The cache is unavailable: reconciliation starts from the oldest order.")
    return 0


def _walk(pending, *, start_after: int, batch_size: int):
    """Yield (id, session id) of the pending orders after start_after, then the ones up to it."""
    rounds = [(start_after, None), (0, start_after)] if start_after else [(0, None)]
    for lower, upper in rounds:
        last = lower
        while True:
            batch = pending.filter(pk__gt=last)
            if upper is not None:
                batch = batch.filter(pk__lte=upper)
            rows = list(batch.values_list("pk", "stripe_session_id")[:batch_size])
            yield from rows
            if len(rows) < batch_size:
                break
            last = rows[-1][0]


def _reconcile(order_id: int, session_id: str) -> bool:
    """Apply what Stripe says about one pending order's session; return whether it changed."""
    try:
        session = stripe_client.retrieve_checkout_session(session_id).to_dict()
    except stripe.InvalidRequestError as error:
        if not stripe_client.is_missing(error):
            raise
        logger.warning(
            "Stripe does not know Checkout Session %s (order id %s).", session_id, order_id
        )
        order_note_add(
            order_id=order_id,
            actor=None,
            message=f"{MISSING_SESSION_NOTE}{session_id}: it cannot be paid. The customer "
            "may open a new one from the payment page; otherwise the order expires unpaid.",
        )
        return False
    if session.get("status") == "complete" and session.get("payment_status") == "paid":
        result = _apply("checkout.session.completed", session)
    elif session.get("status") == "expired":
        result = _apply("checkout.session.expired", session)
    else:
        return False
    return result.outcome == StripeEvent.Outcome.APPLIED
