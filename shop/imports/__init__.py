"""Wine import: read a CSV or XLSX file of wines, check every row, preview it, apply it.

Rows stream from the file in batches: categories, countries and regions resolve from maps held
in memory (loaded once), the batch's existing wines load by SKU in chunks small enough for
SQLite's limit on query parameters, and only new wines and the fields that changed are written
(``bulk_create`` / ``bulk_update``). Applying is all or nothing: one transaction, rolled back
when any row is invalid. What an import holds stays bounded as the file grows: one batch, the
maps of names, the first wine changes and errors of the report, and the SKUs seen so far (for
duplicates within the file) in a temporary SQLite database rather than on the heap.

- limits: what a file may unpack to and hold (rows, columns, characters), checked before parsing.
- tables: the file's columns; a CSV or XLSX file read as a header and rows of text.
- report: what a wine import found or did (ImportReport): counts, row errors, the new and
  updated wines with their changed fields (old → new), blank cells over values, and new names
  that look like typos of the catalog's ("did you mean").
- bulk: rows by chunks of values, free slugs, changed fields of wines written under row locks.
- names: categories, countries and regions by name, the new ones to create, and the catalog's
  name a new one looks like (fold()-equal or at most two letters apart).
- skus: the SKUs a file has shown so far and the row each was first on (SeenSkus).
- rows: wine_file_apply, which checks every row of a file and writes the new and changed wines;
  a blank cell over a value leaves it as it is unless the import's blank cells erase values.
- services: the admin's uploads (WineImport) started, confirmed, queued and run by a worker.
- selectors: a wine import's state for its page (its outcome — a file with invalid rows is
  rejected — and its new and updated wines, paged), its live progress, the recent imports.
"""

from shop.imports.bulk import BATCH_ROWS, IN_CHUNK, free_slugs
from shop.imports.limits import ImportFileError, ImportFileTooLarge, ImportLimits, xlsx_check
from shop.imports.report import (
    MAX_ERRORS,
    MAX_WINE_CHANGES,
    BlankCell,
    FieldChange,
    ImportReport,
    NameHint,
    RowError,
    WineChange,
)
from shop.imports.rows import (
    FALSE_WORDS,
    MAX_PRICE,
    MAX_STOCK,
    NON_VINTAGE,
    TRUE_WORDS,
    Progress,
    wine_file_apply,
)
from shop.imports.selectors import (
    CHANGES_PER_PAGE,
    Outcome,
    WineImportState,
    wine_import_changes_page,
    wine_import_confirmable,
    wine_import_get,
    wine_import_list_recent,
    wine_import_outcome,
    wine_import_progress,
    wine_import_report,
    wine_import_state,
)
from shop.imports.services import (
    STALLED_AFTER_SECONDS,
    WineImportBusy,
    wine_import_confirm,
    wine_import_create,
    wine_import_queue,
    wine_import_recheck,
    wine_import_run,
    wine_import_start,
)
from shop.imports.tables import COLUMNS, REQUIRED_COLUMNS, open_table

__all__ = [
    "BATCH_ROWS",
    "CHANGES_PER_PAGE",
    "COLUMNS",
    "FALSE_WORDS",
    "IN_CHUNK",
    "MAX_ERRORS",
    "MAX_PRICE",
    "MAX_STOCK",
    "MAX_WINE_CHANGES",
    "NON_VINTAGE",
    "REQUIRED_COLUMNS",
    "STALLED_AFTER_SECONDS",
    "TRUE_WORDS",
    "BlankCell",
    "FieldChange",
    "ImportFileError",
    "ImportFileTooLarge",
    "ImportLimits",
    "ImportReport",
    "NameHint",
    "Outcome",
    "Progress",
    "RowError",
    "WineChange",
    "WineImportBusy",
    "WineImportState",
    "free_slugs",
    "open_table",
    "wine_file_apply",
    "wine_import_changes_page",
    "wine_import_confirm",
    "wine_import_confirmable",
    "wine_import_create",
    "wine_import_get",
    "wine_import_list_recent",
    "wine_import_outcome",
    "wine_import_progress",
    "wine_import_queue",
    "wine_import_recheck",
    "wine_import_report",
    "wine_import_run",
    "wine_import_start",
    "wine_import_state",
    "xlsx_check",
]
