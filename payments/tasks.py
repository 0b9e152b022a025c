from celery import shared_task
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
