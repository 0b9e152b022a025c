"""Catalog import: read a CSV or XLSX file of wines, check every row, preview it, apply it.

Rows stream from the file in batches: categories, countries and regions resolve from maps held
in memory (loaded once), the batch's existing wines load by SKU in chunks small enough for
SQLite's limit on query parameters, and only new wines and the fields that changed are written
(``bulk_create`` / ``bulk_update``). Applying is all or nothing: one transaction, rolled back
when any row is invalid.

- limits: what a file may unpack to and hold (rows, columns, characters), checked before parsing.
- tables: the file's columns; a CSV or XLSX file read as a header and rows of text.
- report: what an import found or did (ImportReport).
- bulk: rows by chunks of values, free slugs, changed fields of wines written under row locks.
- names: categories, countries and regions by name, and the new ones to create.
- rows: wine_import, which checks every row and writes the new and changed wines.
- jobs: the admin's uploads (WineImport) that a worker checks, then applies once confirmed.
"""

from shop.imports.bulk import BATCH_ROWS, IN_CHUNK, free_slugs
from shop.imports.jobs import (
    STALLED_AFTER_SECONDS,
    ImportJobBusy,
    import_job_confirm,
    import_job_create,
    import_job_queue,
    import_job_run,
    job_progress,
)
from shop.imports.limits import ImportFileTooLarge, ImportLimits, xlsx_check
from shop.imports.report import MAX_ERRORS, ImportReport, RowError
from shop.imports.rows import (
    FALSE_WORDS,
    MAX_PRICE,
    MAX_STOCK,
    NON_VINTAGE,
    TRUE_WORDS,
    Progress,
    wine_import,
)
from shop.imports.tables import COLUMNS, REQUIRED_COLUMNS, ImportFileError, open_table

__all__ = [
    "BATCH_ROWS",
    "COLUMNS",
    "FALSE_WORDS",
    "IN_CHUNK",
    "MAX_ERRORS",
    "MAX_PRICE",
    "MAX_STOCK",
    "NON_VINTAGE",
    "REQUIRED_COLUMNS",
    "STALLED_AFTER_SECONDS",
    "TRUE_WORDS",
    "ImportFileError",
    "ImportFileTooLarge",
    "ImportJobBusy",
    "ImportLimits",
    "ImportReport",
    "Progress",
    "RowError",
    "free_slugs",
    "import_job_confirm",
    "import_job_create",
    "import_job_queue",
    "import_job_run",
    "job_progress",
    "open_table",
    "wine_import",
    "xlsx_check",
]
