from smtplib import SMTPException

from celery import shared_task
from django.db import InterfaceError, OperationalError

from shop import services
from shop.imports import STALLED_AFTER_SECONDS, ImportJobBusy, import_job_run


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=30, max_retries=5)
def wine_low_stock_alert() -> int:
    return services.wine_low_stock_alert()


# A large catalog file takes minutes, far past the default limits sized for emails.
@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=10,
    max_retries=5,
    soft_time_limit=30 * 60,
    time_limit=31 * 60,
)
def wine_import_run(self, job_id: int) -> None:
    """Check or apply an uploaded catalog file; a job already run is left alone."""
    try:
        import_job_run(job_id=job_id)
    except ImportJobBusy as busy:
        # A duplicate delivery finds the job done by then; after a worker died midway, the job
        # stops reporting progress and this task takes it over.
        raise self.retry(exc=busy, countdown=STALLED_AFTER_SECONDS + 5, max_retries=20) from None
