from smtplib import SMTPException

from celery import shared_task
from django.db import InterfaceError, OperationalError

from core.alerts import send_staff_alert
from shop.imports import STALLED_AFTER_SECONDS, ImportJobBusy, import_job_run
from shop.selectors import low_stock_wines


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=30, max_retries=5)
def low_stock_alert() -> int:
    """Tell staff which wines are running low; return how many."""
    wines = list(low_stock_wines())
    if wines:
        send_staff_alert(
            subject=f"{len(wines)} wines running low",
            template="emails/low_stock",
            context={"wines": wines},
        )
    return len(wines)


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
