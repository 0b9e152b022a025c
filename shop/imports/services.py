"""Running wine imports: an upload kept as a WineImport, checked, then applied once confirmed.

A file up to IMPORT_SYNC_MAX_BYTES is checked (and applied) during the admin's request; a larger
one by a worker (shop.tasks.wine_import_run), which reports its progress in the shared cache.
Starting, confirming and running are not one transaction each: a run commits its claim before
it reads the file, so that other processes see the import running, and applying the file is a
transaction of its own (shop.imports.rows).
"""

import logging
import time
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from core.cache import tolerant_cache as cache
from shop.imports.limits import ImportFileTooLarge
from shop.imports.rows import wine_file_apply
from shop.imports.selectors import progress_key, wine_import_confirmable
from shop.models import WineImport

# A running import that reported no batch for this long has lost its process (batches take
# seconds).
STALLED_AFTER_SECONDS = 5 * 60

logger = logging.getLogger(__name__)


class WineImportBusy(Exception):
    """Another process is running the wine import; ask again later (the task retries)."""


@transaction.atomic
def wine_import_create(
    *,
    upload: File,
    format_hint: str = "",
    erase_blanks: bool = False,
    user: AbstractBaseUser | None = None,
) -> WineImport:
    """Keep an uploaded file in private storage as a new wine import, to be checked."""
    suffix = ".xlsx" if upload.name.lower().endswith(".xlsx") else ".csv"
    wine_import = WineImport(
        original_name=upload.name[:255],
        size=upload.size,
        format_hint=format_hint,
        erase_blanks=erase_blanks,
        created_by=user,
    )
    wine_import.file.save(f"{uuid.uuid4().hex}{suffix}", upload, save=False)
    wine_import.save()
    return wine_import


def wine_import_start(
    *,
    upload: File,
    format_hint: str = "",
    erase_blanks: bool = False,
    user: AbstractBaseUser | None = None,
) -> WineImport:
    """Keep an uploaded wine file and check it: a small file now, a larger one on a worker.

    Raise ImportFileTooLarge for a file past IMPORT_MAX_BYTES (manage.py import_wines reads
    files of any size from the server's disk).
    """
    limit = settings.IMPORT_MAX_BYTES
    if upload.size > limit:
        raise ImportFileTooLarge(
            f"The file is {filesizeformat(upload.size)}; the admin takes files up to "
            f"{filesizeformat(limit)}. Import larger files with manage.py import_wines."
        )
    wine_import = wine_import_create(
        upload=upload, format_hint=format_hint, erase_blanks=erase_blanks, user=user
    )
    _run_or_queue(wine_import)
    wine_import.refresh_from_db()
    return wine_import


def wine_import_confirm(*, wine_import_id: int) -> bool:
    """Apply the file of a checked, valid wine import, now or on a worker; False if it can't be."""
    wine_import = WineImport.objects.filter(pk=wine_import_id).first()
    if wine_import is None or not wine_import_confirmable(wine_import=wine_import):
        return False
    # Conditional, so that two clicks on Confirm apply the file once.
    confirmed = WineImport.objects.filter(
        pk=wine_import_id, status=WineImport.Status.DONE, dry_run=True
    ).update(dry_run=False, status=WineImport.Status.QUEUED, rows_processed=0, progress=None)
    if confirmed:
        _run_or_queue(wine_import)
    return bool(confirmed)


def wine_import_recheck(*, wine_import_id: int, erase_blanks: bool) -> bool:
    """Check a previewed file again, its blank cells erasing values or not; False if it can't be.

    Only a finished preview is checked again (not one being checked, nor an applied file).
    """
    rechecked = WineImport.objects.filter(
        pk=wine_import_id, status=WineImport.Status.DONE, dry_run=True
    ).update(
        erase_blanks=erase_blanks,
        status=WineImport.Status.QUEUED,
        summary={},
        wine_changes=[],
        rows_processed=0,
        progress=None,
    )
    if rechecked:
        _run_or_queue(WineImport.objects.get(pk=wine_import_id))
    return bool(rechecked)


def _run_or_queue(wine_import: WineImport) -> None:
    # Past this size a file takes longer than a request should wait.
    if wine_import.size <= settings.IMPORT_SYNC_MAX_BYTES:
        wine_import_run(wine_import_id=wine_import.pk)
    else:
        wine_import_queue(wine_import_id=wine_import.pk)


def wine_import_queue(*, wine_import_id: int) -> None:
    """Have a worker run the wine import once the current transaction commits."""
    from shop import tasks

    transaction.on_commit(lambda: tasks.wine_import_run.delay(wine_import_id))


def _stalled_start(wine_import_id: int):
    """Return when a running import whose process stopped reporting started, else None."""
    wine_import = WineImport.objects.filter(
        pk=wine_import_id, status=WineImport.Status.RUNNING
    ).first()
    if wine_import is None:
        return None
    started_at = wine_import.started_at
    *_, beat = cache.get(progress_key(wine_import_id), (0, None, started_at.timestamp()))
    return started_at if time.time() - beat > STALLED_AFTER_SECONDS else None


def wine_import_run(*, wine_import_id: int) -> WineImport | None:
    """Check or apply a queued wine import's file; None when it has been run already.

    Raise WineImportBusy while another process runs it and still reports progress.
    """
    now = timezone.now()
    # An import is taken once; a redelivered task (acks late) takes over only an import whose
    # process died, its transaction rolled back with its connection.
    takeable = Q(status=WineImport.Status.QUEUED)
    stalled = _stalled_start(wine_import_id)
    if stalled:
        # Conditional on the old start, so that two redeliveries don't both take it over.
        takeable |= Q(status=WineImport.Status.RUNNING, started_at=stalled)
    claimed = WineImport.objects.filter(takeable, pk=wine_import_id).update(
        status=WineImport.Status.RUNNING, started_at=now, finished_at=None, error=""
    )
    if not claimed:
        if WineImport.objects.filter(pk=wine_import_id, status=WineImport.Status.RUNNING).exists():
            raise WineImportBusy(wine_import_id)
        return None
    wine_import = WineImport.objects.get(pk=wine_import_id)
    key = progress_key(wine_import_id)

    def progress(rows: int, share: float | None) -> None:
        cache.set(key, (rows, share, time.time()), timeout=24 * 60 * 60)

    progress(0, None)

    try:
        with wine_import.file.open("rb") as file:
            report = wine_file_apply(
                file=file,
                format_hint=wine_import.format_hint,
                dry_run=wine_import.dry_run,
                erase_blanks=wine_import.erase_blanks,
                progress=progress,
            )
    except (OperationalError, InterfaceError):
        # The database went away: the import waits for the task's retry.
        WineImport.objects.filter(pk=wine_import_id).update(status=WineImport.Status.QUEUED)
        raise
    except Exception as error:
        logger.exception("Wine import %s failed", wine_import_id)
        wine_import.status = WineImport.Status.FAILED
        wine_import.error = f"The import stopped on an unexpected error ({type(error).__name__})."
    else:
        wine_import.status = WineImport.Status.DONE
        wine_import.summary = report.as_dict()
        wine_import.wine_changes = report.wine_changes_as_list()
        wine_import.rows_processed = report.rows
        wine_import.progress = 1.0
    wine_import.finished_at = timezone.now()
    wine_import.save(
        update_fields=[
            "status",
            "summary",
            "wine_changes",
            "rows_processed",
            "progress",
            "error",
            "finished_at",
        ]
    )
    cache.delete(key)
    return wine_import
