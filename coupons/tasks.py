from celery import shared_task
from django.db import OperationalError

from coupons import services


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=600,
    time_limit=660,
    max_retries=5,
)
def coupon_batch_generate(self, batch_id: int) -> int:
    """Generate a batch's codes; a retry picks up where the last attempt stopped."""
    try:
        return services.coupon_batch_generate(batch_id=batch_id).generated
    except OperationalError as error:  # the database went away for a moment
        raise self.retry(exc=error, countdown=10) from error
