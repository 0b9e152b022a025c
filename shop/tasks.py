from smtplib import SMTPException

from celery import shared_task
from django.db import InterfaceError, OperationalError

# Modules, not names: each task has the name of the service it runs.
from shop import imports, services


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=30, max_retries=5)
def wine_low_stock_alert() -> int:
    return services.wine_low_stock_alert()


# A large wine file takes minutes, far past the default limits sized for emails.
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
def wine_import_run(self, wine_import_id: int) -> None:
    """Check or apply an uploaded wine file; a wine import already run is left alone."""
    try:
        imports.wine_import_run(wine_import_id=wine_import_id)
    except imports.WineImportBusy as busy:
        # A duplicate delivery finds the import done by then; after a worker died midway, the
        # import stops reporting progress and this task takes it over.
        raise self.retry(
            exc=busy, countdown=imports.STALLED_AFTER_SECONDS + 5, max_retries=20
        ) from None
