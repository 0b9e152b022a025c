from datetime import timedelta

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from stripe import APIConnectionError, APIError, RateLimitError

from payments import refunds, services

# Stripe or the network in trouble: worth another try later.
TRANSIENT = (APIConnectionError, APIError, RateLimitError)
# Calls to Stripe that are safe to repeat (idempotent), tried again while it is in trouble.
RETRIED = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": 30,
    "max_retries": 5,
}


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    # The database away or a deadlock: the event waits, claimed by nobody, for another try.
    autoretry_for=(InterfaceError, OperationalError),
    retry_backoff=2,
    max_retries=5,
)
def payment_apply(stripe_event_id: int) -> str | None:
    """Apply a stored Stripe event; return its outcome (None: applied before)."""
    stored = services.payment_apply(stripe_event_id=stripe_event_id)
    return None if stored is None else stored.outcome


@shared_task
def payment_apply_waiting() -> int:
    """Apply the events received over a minute ago and still waiting (a younger one's own task
    is most likely on its way); return how many."""
    received_before = timezone.now() - timedelta(minutes=1)
    return services.payment_apply_waiting(received_before=received_before)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(APIConnectionError, RateLimitError),
    retry_backoff=30,
    max_retries=3,
)
def payment_reconcile() -> int:
    return services.payment_reconcile()


@shared_task(**RETRIED)
def checkout_session_expire(order_id: int) -> bool:
    return services.checkout_session_expire(order_id=order_id)


@shared_task(**RETRIED)
def refund_submit(refund_id: int) -> str | None:
    """Send the refund to Stripe; return the outcome of its answer (None: not one to send)."""
    result = refunds.refund_submit(refund_id=refund_id)
    return None if result is None else result.outcome
