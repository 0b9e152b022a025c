from celery import shared_task
from django.db import OperationalError

from reports import services

# A database that went away or a lock that timed out passes; running again is safe since every
# task here is idempotent.
RETRIED = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, ConnectionError, TimeoutError),
    "max_retries": 5,
    "retry_backoff": 10,
}
# A month of sales with its charts takes seconds, more than the default limit meant for emails.
LONG = {"soft_time_limit": 600, "time_limit": 660}


@shared_task(**RETRIED)
def invoice_ensure(order_id: int) -> str:
    return services.invoice_ensure(order_id=order_id).number


@shared_task(**RETRIED)
def credit_note_ensure(refund_id: int) -> str:
    return services.credit_note_ensure(refund_id=refund_id).number


@shared_task(**RETRIED, **LONG)
def report_build(report_id: int) -> str:
    return services.report_build(report_id=report_id).status


@shared_task(**RETRIED, **LONG)
def report_daily() -> str:
    return services.report_daily().status
