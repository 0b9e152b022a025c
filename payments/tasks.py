from celery import shared_task
from stripe import APIConnectionError, RateLimitError

from payments import services


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(APIConnectionError, RateLimitError),
    retry_backoff=30,
    max_retries=3,
)
def reconcile_payments() -> int:
    return services.reconcile_pending()
