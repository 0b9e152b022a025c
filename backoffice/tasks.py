from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from backoffice.models import BaselineRow


@shared_task
def session_clear_expired() -> None:
    """Delete expired sessions (idempotent: Django's own clearsessions)."""
    call_command("clearsessions")


@shared_task
def noop() -> None:
    """Do nothing: the baseline of the task pipeline (broker, worker, pool) that bench/ measures."""


@shared_task(acks_late=True, reject_on_worker_lost=True)
def baseline_row_touch(row_id: int) -> None:
    """Lock a row, stamp it and write one file: the floor under sending an order email."""
    with transaction.atomic():
        row = BaselineRow.objects.select_for_update().get(pk=row_id)
        row.touched_at = timezone.now()
        row.save(update_fields=["touched_at"])
        folder = Path(settings.EMAIL_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"baseline-{row_id}.txt").write_text(f"{row} touched at {row.touched_at}\n")
