"""Running imports: the admin's uploads as WineImport jobs that a worker checks or applies."""

import logging
import time
import uuid

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from core.cache import tolerant_cache as cache
from shop.imports.report import ImportReport
from shop.imports.rows import wine_import
from shop.models import WineImport

# A running job that reported no batch for this long has lost its process (batches take seconds).
STALLED_AFTER_SECONDS = 5 * 60

logger = logging.getLogger(__name__)


class ImportJobBusy(Exception):
    """Another process is running the job; ask again later."""


def _progress_key(job_id: int) -> str:
    return f"wine-import:{job_id}:progress"


def job_progress(job: WineImport) -> tuple[int, float | None]:
    """Return (rows processed, share of the file read) of a job, live while it runs.

    An applying import writes in one transaction, so its progress is kept in the shared cache,
    which every process sees before the transaction commits.
    """
    if job.status == WineImport.Status.RUNNING:
        rows, share, _ = cache.get(_progress_key(job.pk), (0, None, None))
        return rows, share
    return job.rows_processed, job.progress


def _stalled_start(job_id: int):
    """Return when a running job whose process stopped reporting started, else None."""
    job = WineImport.objects.filter(pk=job_id, status=WineImport.Status.RUNNING).first()
    if job is None:
        return None
    *_, beat = cache.get(_progress_key(job_id), (0, None, job.started.timestamp()))
    return job.started if time.time() - beat > STALLED_AFTER_SECONDS else None


def import_job_create(*, upload, format_hint: str = "", user=None) -> WineImport:
    """Keep an uploaded file in private storage as a new import job (to be checked)."""
    suffix = ".xlsx" if upload.name.lower().endswith(".xlsx") else ".csv"
    job = WineImport(
        original_name=upload.name[:255],
        size=upload.size,
        format_hint=format_hint,
        created_by=user,
    )
    job.file.save(f"{uuid.uuid4().hex}{suffix}", upload, save=False)
    job.save()
    return job


def import_job_queue(*, job_id: int) -> None:
    """Have a worker run the job once the current transaction commits."""
    from shop.tasks import wine_import_run

    transaction.on_commit(lambda: wine_import_run.delay(job_id))


def import_job_confirm(*, job_id: int) -> bool:
    """Turn a checked, valid job into one that applies the same file; False if it can't be."""
    job = WineImport.objects.get(pk=job_id)
    if job.status != WineImport.Status.DONE or not job.dry_run:
        return False
    if not ImportReport.from_dict(job.summary).ok:
        return False
    # Conditional, so that two clicks on Confirm apply the file once.
    return bool(
        WineImport.objects.filter(pk=job_id, status=WineImport.Status.DONE, dry_run=True).update(
            dry_run=False, status=WineImport.Status.QUEUED, rows_processed=0, progress=None
        )
    )


def import_job_run(*, job_id: int) -> WineImport | None:
    """Check or apply a queued job's file; None when it has been run already.

    Raise ImportJobBusy while another process runs it and still reports progress.
    """
    now = timezone.now()
    # A job is taken once; a redelivered task (acks late) takes over only a job whose process
    # died, its transaction rolled back with its connection.
    takeable = Q(status=WineImport.Status.QUEUED)
    stalled = _stalled_start(job_id)
    if stalled:
        # Conditional on the old start, so that two redeliveries don't both take it over.
        takeable |= Q(status=WineImport.Status.RUNNING, started=stalled)
    claimed = WineImport.objects.filter(takeable, pk=job_id).update(
        status=WineImport.Status.RUNNING, started=now, finished=None, error=""
    )
    if not claimed:
        if WineImport.objects.filter(pk=job_id, status=WineImport.Status.RUNNING).exists():
            raise ImportJobBusy(job_id)
        return None
    job = WineImport.objects.get(pk=job_id)
    key = _progress_key(job_id)

    def progress(rows: int, share: float | None) -> None:
        cache.set(key, (rows, share, time.time()), timeout=24 * 60 * 60)

    progress(0, None)

    try:
        with job.file.open("rb") as file:
            report = wine_import(
                file=file, format_hint=job.format_hint, dry_run=job.dry_run, progress=progress
            )
    except (OperationalError, InterfaceError):
        # The database went away: the job waits for the task's retry.
        WineImport.objects.filter(pk=job_id).update(status=WineImport.Status.QUEUED)
        raise
    except Exception as error:
        logger.exception("Wine import %s failed", job_id)
        job.status = WineImport.Status.FAILED
        job.error = f"The import stopped on an unexpected error ({type(error).__name__})."
    else:
        job.status = WineImport.Status.DONE
        job.summary = report.as_dict()
        job.rows_processed = report.rows
        job.progress = 1.0
    job.finished = timezone.now()
    job.save(update_fields=["status", "summary", "rows_processed", "progress", "error", "finished"])
    cache.delete(key)
    return job
