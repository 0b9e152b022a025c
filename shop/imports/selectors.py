"""Reading wine imports: one import's state for its page, its live progress, the latest ones."""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import QuerySet

from core.cache import tolerant_cache as cache
from shop.imports.report import ImportReport, WineChange
from shop.models import WineImport

RECENT = 10  # wine imports listed under the upload form
CHANGES_PER_PAGE = 50  # new and updated wines on a page of an import's preview


class Outcome(models.TextChoices):
    """Where a wine import stands for the merchant: its status, and what its report says."""

    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    FAILED = "failed", "failed"
    REJECTED = "rejected", "rejected"
    CHECKED = "checked", "checked, to confirm"
    IMPORTED = "imported", "imported"


def progress_key(wine_import_id: int) -> str:
    """Return the shared cache's key for a running wine import's (rows, share, heartbeat)."""
    return f"wine-import:{wine_import_id}:progress"


def wine_import_get(*, wine_import_id: int) -> WineImport | None:
    return WineImport.objects.filter(pk=wine_import_id).first()


def wine_import_progress(*, wine_import: WineImport) -> tuple[int, float | None]:
    """Return (rows processed, share of the file read) of a wine import, live while it runs.

    Applying writes in one transaction, so the progress of a running import is kept in the
    shared cache, which every process sees before the transaction commits.
    """
    if wine_import.status == WineImport.Status.RUNNING:
        rows, share, _ = cache.get(progress_key(wine_import.pk), (0, None, None))
        return rows, share
    return wine_import.rows_processed, wine_import.progress


def wine_import_report(*, wine_import: WineImport) -> ImportReport | None:
    """Return what a finished check or apply found, None before it has finished."""
    return ImportReport.from_dict(wine_import.summary) if wine_import.summary else None


def wine_import_outcome(*, wine_import: WineImport) -> Outcome:
    """Return a wine import's outcome: a file refused or with invalid rows is rejected."""
    if wine_import.status != WineImport.Status.DONE:
        return Outcome(wine_import.status)
    report = wine_import_report(wine_import=wine_import)
    if report is None or not report.ok:
        return Outcome.REJECTED
    if report.applied:
        return Outcome.IMPORTED
    return Outcome.CHECKED if wine_import.dry_run else Outcome.REJECTED


def wine_import_changes_page(*, wine_import: WineImport, page: str | int | None) -> Page:
    """Return a page of the new and updated wines of a wine import (the last for a page past
    it, the first for one that is not a number)."""
    page = Paginator(wine_import.wine_changes, CHANGES_PER_PAGE).get_page(page)
    page.object_list = [WineChange.from_dict(change) for change in page.object_list]
    return page


def wine_import_confirmable(*, wine_import: WineImport) -> bool:
    """Return whether a wine import is a finished check of a valid file, not applied yet."""
    if wine_import.status != WineImport.Status.DONE or not wine_import.dry_run:
        return False
    report = wine_import_report(wine_import=wine_import)
    return report is not None and report.ok


@dataclass(frozen=True)
class WineImportState:
    """Where a wine import stands, as its page shows it."""

    wine_import: WineImport
    report: ImportReport | None
    rows_processed: int
    share: float | None  # of the file read, when known
    working: bool  # queued or running: the page refreshes itself
    can_confirm: bool
    hidden_errors: int  # invalid rows counted but not listed (see report.MAX_ERRORS)
    outcome: Outcome
    changes: Page  # of the new and updated wines

    @property
    def hidden_changes(self) -> int:
        """Return how many new and updated wines the report counts but does not list."""
        if self.report is None:
            return 0
        return max(self.report.changes - self.changes.paginator.count, 0)

    @property
    def percent(self) -> int | None:
        return round(self.share * 100) if self.share is not None else None

    @property
    def percent_text(self) -> str:
        return f"{self.share:.0%}" if self.share is not None else "…"


def wine_import_state(*, wine_import_id: int, page: str | int | None = 1) -> WineImportState | None:
    """Return the state of a wine import for its page (page of its new and updated wines),
    None when there is no such import."""
    wine_import = WineImport.objects.select_related("created_by").filter(pk=wine_import_id).first()
    if wine_import is None:
        return None
    report = wine_import_report(wine_import=wine_import)
    rows, share = wine_import_progress(wine_import=wine_import)
    return WineImportState(
        wine_import=wine_import,
        report=report,
        rows_processed=rows,
        share=share,
        working=wine_import.status in (WineImport.Status.QUEUED, WineImport.Status.RUNNING),
        can_confirm=wine_import_confirmable(wine_import=wine_import),
        hidden_errors=report.invalid - len(report.errors) if report else 0,
        outcome=wine_import_outcome(wine_import=wine_import),
        changes=wine_import_changes_page(wine_import=wine_import, page=page),
    )


def wine_import_list_recent(*, limit: int = RECENT) -> QuerySet[WineImport]:
    """Return the latest wine imports, newest first, with who uploaded them."""
    imports = WineImport.objects.select_related("created_by").defer("wine_changes")
    return imports.order_by("-created", "-pk")[:limit]
