"""Catalog import: read a CSV or XLSX file of wines, check every row, preview it, apply it.

Rows stream from the file in batches: categories, countries and regions resolve from maps held
in memory (loaded once), the batch's existing wines load by SKU in chunks small enough for
SQLite's limit on query parameters, and only new wines and the fields that changed are written
(``bulk_create`` / ``bulk_update``). Applying is all or nothing: one transaction, rolled back
when any row is invalid.
"""

import contextlib
import csv
import io
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.cache import cache
from django.core.files.base import File
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from backoffice.spreadsheet import FORMULA_STARTS
from shop.catalog_cache import catalog_changed
from shop.models import Category, Country, Region, Wine, WineImport

COLUMNS = (
    "sku",
    "name",
    "producer",
    "vintage",
    "category",
    "country",
    "region",
    "price",
    "stock",
    "description",
    "available",
)
# A file without vintage, stock, description or available leaves those fields of existing wines
# as they are (new wines get no vintage, no stock, no description and are available).
REQUIRED_COLUMNS = ("sku", "name", "producer", "category", "country", "region", "price")
BATCH_ROWS = 2000
# Values per IN (...): standard SQLite builds accept at most 999 parameters per query.
IN_CHUNK = 500
MAX_ERRORS = 50  # row errors kept in a report; the count covers them all
MAX_PRICE = Decimal("99999999.99")
MAX_STOCK = 2_147_483_647
# A running job that reported no batch for this long has lost its process (batches take seconds).
STALLED_AFTER_SECONDS = 5 * 60
TRUE_WORDS = {"yes", "y", "true", "1", "oui"}
FALSE_WORDS = {"no", "n", "false", "0", "non"}
NON_VINTAGE = {"nv", "n.v.", "n/v"}

logger = logging.getLogger(__name__)

Progress = Callable[[int, float | None], None]


class ImportFileError(Exception):
    """The file as a whole can't be read; the message is safe to show to the merchant."""


class ImportJobBusy(Exception):
    """Another process is running the job; ask again later."""


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def __str__(self):
        return f"Row {self.row}, {self.column}: {self.message}"


@dataclass
class ImportReport:
    """What an import found (a preview) or did (applied)."""

    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    new_categories: list[str] = field(default_factory=list)
    new_countries: list[str] = field(default_factory=list)
    new_regions: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_error: str = ""
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.file_error and not self.invalid

    @property
    def changes(self) -> int:
        return self.new + self.updated

    def add_error(self, row: int, column: str, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(row, column, message))

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ImportReport":
        data = dict(data)
        data["errors"] = [RowError(**error) for error in data.get("errors", [])]
        return cls(**data)

    def summary_lines(self) -> list[str]:
        if self.file_error:
            return [self.file_error]
        verb = "imported" if self.applied else "checked"
        lines = [
            f"{self.rows} rows {verb}: {self.new} new, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.invalid} invalid."
        ]
        for label, names in (
            ("New categories", self.new_categories),
            ("New countries", self.new_countries),
            ("New regions", self.new_regions),
        ):
            if names:
                lines.append(f"{label}: {', '.join(names)}.")
        if self.extra_columns:
            lines.append(f"Columns ignored: {', '.join(self.extra_columns)}.")
        return lines


def wine_import(
    *, file, format_hint: str = "", dry_run: bool = True, progress: Progress | None = None
) -> ImportReport:
    """Check (dry_run) or apply a wine file; never raise for what the file holds.

    file is a seekable binary file (an upload, a stored file, an open file). Applying writes
    nothing unless every row is valid.
    """
    report = ImportReport()
    try:
        if dry_run:
            _Import(report, writing=False, progress=progress).run(file, format_hint)
        else:
            with transaction.atomic():
                _Import(report, writing=True, progress=progress).run(file, format_hint)
                if report.ok:
                    report.applied = True
                    if report.changes or report.new_categories or report.new_countries:
                        catalog_changed()
                else:
                    transaction.set_rollback(True)
    except ImportFileError as error:
        report.file_error = str(error)
    except DatabaseError as error:
        if "deadlock" not in str(error).lower():
            raise
        report.file_error = (
            "Orders changed these wines while the file was being imported, so nothing was "
            "imported. Import the file again."
        )
    if report.file_error:
        report.applied = False
    return report


# --- Reading ---------------------------------------------------------------------------------


@dataclass
class _Table:
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]  # spreadsheet row number (header = 1), cells
    done: Callable[[], float | None]  # share of the file read so far, when known


def _raw(file):
    while isinstance(file, File):
        file = file.file
    return file


def open_table(file, format_hint: str = "") -> _Table:
    """Return the header and a stream of the rows of a CSV or XLSX file."""
    raw = _raw(file)
    raw.seek(0)
    head = raw.read(65536)
    raw.seek(0)
    if not head.strip():
        raise ImportFileError("The file is empty.")
    if head.startswith(b"PK\x03\x04") or format_hint == "xlsx":
        return _xlsx_table(raw)
    return _csv_table(raw, head)


def _csv_table(raw, head: bytes) -> _Table:
    first_line = head.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    raw.seek(0, io.SEEK_END)
    size = raw.tell() or 1
    raw.seek(0)
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")

    def records():
        number = 0
        try:
            for number, cells in enumerate(csv.reader(text, delimiter=delimiter), start=1):
                if any("\x00" in cell for cell in cells):
                    # Binary data, and a character PostgreSQL can't store in text.
                    raise ImportFileError(
                        f"Row {number} holds a NUL character: the file is not CSV text."
                    )
                yield number, cells
        except UnicodeDecodeError:
            raise ImportFileError(
                f"The file is not UTF-8 text (near row {number + 1}). Save it from your "
                "spreadsheet as “CSV UTF-8” or as an Excel workbook (.xlsx)."
            ) from None
        except csv.Error as error:
            raise ImportFileError(f"Row {number + 1}: not a readable CSV row ({error}).") from None
        finally:
            with contextlib.suppress(ValueError):  # the caller may have closed it already
                text.detach()  # else closing the wrapper would close the caller's file

    rows = records()
    try:
        _, header = next(rows)
    except StopIteration:
        raise ImportFileError("The file is empty.") from None
    return _Table(header, rows, lambda: min(raw.tell() / size, 1.0))


def _xlsx_table(raw) -> _Table:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(raw, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
    except Exception:
        # Anything openpyxl trips on (not a zip, a zip of something else, broken XML) is the
        # file's fault, not a server error.
        raise ImportFileError(
            "The file is not an Excel workbook (.xlsx); save it as .xlsx or as CSV UTF-8."
        ) from None
    total = sheet.max_row or 0  # from the sheet's dimension, when the writer recorded it
    read = [0]

    def records():
        number = 0
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                read[0] = number
                yield number, [_xlsx_text(value) for value in values]
        except Exception:
            raise ImportFileError(f"The workbook can't be read past row {number}.") from None
        finally:
            workbook.close()

    rows = records()
    try:
        _, header = next(rows)
    except StopIteration:
        raise ImportFileError("The file is empty.") from None
    return _Table(header, rows, lambda: min(read[0] / total, 1.0) if total else None)


def _xlsx_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return format(value, ".15g")  # what the spreadsheet shows, not binary noise
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _text(cell: str) -> str:
    """Return a cell's text, without the quote that export puts before a formula start."""
    text = cell.strip()
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


# --- Checking and writing --------------------------------------------------------------------


class _Names:
    """Rows of Category or Country by lower-cased name; new names wait to be created."""

    def __init__(self, model, new_names: list[str]):
        self.model = model
        self.ids = {}
        self.names = {}  # key -> name as spelled in the catalog, or first in the file
        for pk, name in model.objects.values_list("pk", "name"):
            self.ids[name.lower()] = pk
            self.names[name.lower()] = name
        self.pending: dict[str, str] = {}  # key -> name as first spelled in the file
        self.new_names = new_names

    def key(self, name: str) -> str:
        key = name.lower()
        if key not in self.ids:
            self.ids[key] = None
            self.names[key] = name
            self.pending[key] = name
            self.new_names.append(name)
        return key

    def create_pending(self) -> None:
        if not self.pending:
            return
        names = list(self.pending.values())
        slugs = free_slugs(self.model, names, max_length=120)
        self.model.objects.bulk_create(
            [self.model(name=n, slug=s) for n, s in zip(names, slugs, strict=True)]
        )
        for pk, name in _in_chunks(self.model.objects, "name", names, "pk", "name"):
            self.ids[name.lower()] = pk
        self.pending.clear()


class _Regions:
    """Rows of Region by (country key, lower-cased name)."""

    def __init__(self, countries: _Names, new_names: list[str]):
        self.countries = countries
        country_keys = {pk: key for key, pk in countries.ids.items()}
        self.ids = {}
        self.homes = defaultdict(set)  # region key -> country names that have it
        for pk, country_id, name, country in Region.objects.values_list(
            "pk", "country_id", "name", "country__name"
        ):
            self.ids[country_keys[country_id], name.lower()] = pk
            self.homes[name.lower()].add(country)
        self.pending: dict[tuple, str] = {}
        self.new_names = new_names

    def key(self, country_key: str, country: str, name: str) -> tuple[str, str]:
        """Return the region's key, or raise ValueError when it belongs to other countries."""
        key = (country_key, name.lower())
        if key in self.ids:
            return key
        if self.homes.get(name.lower()):
            homes = ", ".join(sorted(self.homes[name.lower()]))
            raise ValueError(f"“{name}” is a region of {homes}, not of {country}.")
        self.ids[key] = None
        self.pending[key] = name
        self.new_names.append(f"{name} ({country})")
        return key

    def create_pending(self) -> None:
        if not self.pending:
            return
        keys = list(self.pending)
        # Region slugs are unique across countries; the country keeps them apart.
        texts = [f"{self.countries.names[k[0]]} {self.pending[k]}" for k in keys]
        slugs = free_slugs(Region, texts, max_length=120)
        Region.objects.bulk_create(
            [
                Region(country_id=self.countries.ids[k[0]], name=self.pending[k], slug=slug)
                for k, slug in zip(keys, slugs, strict=True)
            ]
        )
        country_keys = {pk: key for key, pk in self.countries.ids.items()}
        for pk, country_id, name in _in_chunks(
            Region.objects, "slug", slugs, "pk", "country_id", "name"
        ):
            self.ids[country_keys[country_id], name.lower()] = pk
        self.pending.clear()


class _Import:
    def __init__(self, report: ImportReport, *, writing: bool, progress: Progress | None):
        self.report = report
        self.writing = writing
        self.progress = progress
        self.seen: dict[str, int] = {}  # SKU -> row it was first seen on
        self.this_year = timezone.localdate().year

    def run(self, file, format_hint: str) -> None:
        table = open_table(file, format_hint)
        self.columns = self._columns(table.header)
        self.categories = _Names(Category, self.report.new_categories)
        self.countries = _Names(Country, self.report.new_countries)
        self.regions = _Regions(self.countries, self.report.new_regions)
        batch = []
        for number, cells in table.rows:
            if not any(cell.strip() for cell in cells):
                continue
            self.report.rows += 1
            row = self._check(number, cells)
            if row is None:
                self.report.invalid += 1
            else:
                batch.append(row)
            if len(batch) >= BATCH_ROWS:
                self._write(batch)
                batch = []
                if self.progress:
                    self.progress(self.report.rows, table.done())
        self._write(batch)
        if not self.report.rows:
            raise ImportFileError("The file has a header but no rows.")
        if self.progress:
            self.progress(self.report.rows, 1.0)

    def _columns(self, header: list[str]) -> dict[str, int]:
        columns: dict[str, int] = {}
        for index, cell in enumerate(header):
            name = cell.replace("\ufeff", "").strip().lower()
            if not name:
                continue
            if name in columns:
                raise ImportFileError(f"The column “{name}” appears twice in the header.")
            columns[name] = index
        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        if missing:
            found = ", ".join(columns) or "none"
            raise ImportFileError(
                f"Missing required column(s): {', '.join(missing)} (the header has: {found})."
            )
        self.report.extra_columns = [name for name in columns if name not in COLUMNS]
        return {name: index for name, index in columns.items() if name in COLUMNS}

    def _check(self, number: int, cells: list[str]) -> dict | None:
        """Return the row's values by Wine attribute, or None after recording its errors."""
        raw = {
            name: _text(cells[index]) if index < len(cells) else ""
            for name, index in self.columns.items()
        }
        errors = []
        values = {}

        def fail(column, message):
            errors.append((column, message))

        for column, limit in (
            ("sku", 32),
            ("name", 200),
            ("producer", 200),
            ("category", 100),
            ("country", 100),
            ("region", 100),
        ):
            text = raw[column]
            if not text and column != "region":
                fail(column, "is required.")
            elif len(text) > limit:
                fail(column, f"is longer than {limit} characters.")
            else:
                values[column] = text
        sku = values.get("sku")
        if sku:
            if sku in self.seen:
                fail("sku", f"“{sku}” is also on row {self.seen[sku]}.")
            else:
                self.seen[sku] = number
        if "vintage" in raw:
            self._vintage(raw["vintage"], values, fail)
        self._price(raw["price"], values, fail)
        if raw.get("stock"):
            self._stock(raw["stock"], values, fail)
        if "description" in raw:
            values["description"] = raw["description"]
        if raw.get("available"):
            word = raw["available"].lower()
            if word in TRUE_WORDS | FALSE_WORDS:
                values["available"] = word in TRUE_WORDS
            else:
                fail("available", f"“{raw['available']}” is not yes or no.")
        if not errors:
            self._resolve(values, fail)
        if errors:
            for column, message in errors:
                self.report.add_error(number, column, message)
            return None
        return values

    def _vintage(self, text: str, values: dict, fail) -> None:
        if not text or text.lower() in NON_VINTAGE:
            values["vintage"] = None
        elif not (text.isascii() and text.isdigit() and len(text) == 4):
            fail("vintage", f"“{text}” is not a year (use four digits, or leave it blank).")
        elif int(text) > self.this_year:
            fail("vintage", f"{text} is in the future.")
        elif int(text) < 1800:
            fail("vintage", f"{text} is before 1800.")
        else:
            values["vintage"] = int(text)

    def _price(self, text: str, values: dict, fail) -> None:
        if not text:
            fail("price", "is required.")
            return
        try:
            price = Decimal(text.replace(",", ".") if text.count(",") == 1 else text)
        except InvalidOperation:
            fail("price", f"“{text}” is not a number.")
            return
        if not price.is_finite():
            fail("price", f"“{text}” is not a number.")
        elif price < 0:
            fail("price", f"{text} is negative.")
        elif price > MAX_PRICE:
            fail("price", f"{text} is more than {MAX_PRICE}.")
        elif price != price.quantize(Decimal("0.01")):
            fail("price", f"{text} has more than two decimal places.")
        else:
            values["price"] = price.quantize(Decimal("0.01"))

    def _stock(self, text: str, values: dict, fail) -> None:
        if text.startswith("-") and text[1:].isdigit():
            fail("stock", f"{text} is negative.")
        elif not (text.isascii() and text.isdigit()):
            fail("stock", f"“{text}” is not a whole number of bottles.")
        elif int(text) > MAX_STOCK:
            fail("stock", f"{text} is too large.")
        else:
            values["stock"] = int(text)

    def _resolve(self, values: dict, fail) -> None:
        values["category"] = self.categories.key(values["category"])
        country = values["country"]
        values["country"] = self.countries.key(country)
        region = values.pop("region", "")
        if region:
            try:
                values["region"] = self.regions.key(values["country"], country, region)
            except ValueError as error:
                fail("region", str(error))
        else:
            values["region"] = None

    def _write(self, batch: list[dict]) -> None:
        writing = self.writing and self.report.ok
        if writing:
            self.categories.create_pending()
            self.countries.create_pending()
            self.regions.create_pending()
        fields = [f for f in _COMPARED if f.removesuffix("_id") in self.columns]
        existing = {}
        skus = [row["sku"] for row in batch]
        for pk, sku, *old in _in_chunks(Wine.objects.all(), "sku", skus, "pk", "sku", *fields):
            existing[sku] = (pk, old)
        created, changes = [], {}
        for row in batch:
            new = self._attributes(row)
            found = existing.get(row["sku"])
            if found is None:
                self.report.new += 1
                if writing:
                    created.append(Wine(sku=row["sku"], **new))
            elif any(new[f] != value for f, value in zip(fields, found[1], strict=True)):
                self.report.updated += 1
                if writing:
                    changes[found[0]] = new
            else:
                self.report.unchanged += 1
        if created:
            bases = [_wine_slug(wine) for wine in created]
            for wine, slug in zip(created, free_slugs(Wine, bases, max_length=200), strict=True):
                wine.slug = slug
            Wine.objects.bulk_create(created, batch_size=BATCH_ROWS)
        if changes:
            _update(changes, fields)

    def _attributes(self, row: dict) -> dict:
        values = {
            "name": row["name"],
            "producer": row["producer"],
            "category_id": self.categories.ids[row["category"]],
            "country_id": self.countries.ids[row["country"]],
            "region_id": self.regions.ids[row["region"]] if row["region"] else None,
            "price": row["price"],
        }
        for name in ("vintage", "stock", "description", "available"):
            if name in row:
                values[name] = row[name]
        return values


# Compared with an existing wine when their column is in the file; stock is the merchant's
# count of bottles for sale and replaces the stock (see README, "Catalog import and export").
_COMPARED = (
    "name",
    "producer",
    "vintage",
    "category_id",
    "country_id",
    "region_id",
    "price",
    "stock",
    "description",
    "available",
)


def _update(changes: dict[int, dict], fields: list[str]) -> None:
    """Write to each wine (by id) the fields whose value differs from the new one."""
    # Lock the rows about to change, in id order as order placement locks them, and compare
    # again: an order may have moved their stock since they were read.
    updates = defaultdict(list)
    locked = Wine.objects.select_for_update().order_by("pk")
    for pk, *old in _in_chunks(locked, "pk", sorted(changes), "pk", *fields):
        new = changes[pk]
        changed = tuple(f for f, value in zip(fields, old, strict=True) if new[f] != value)
        if changed:
            updates[changed].append(Wine(pk=pk, **{f: new[f] for f in changed}))
    for changed, wines in updates.items():
        Wine.objects.bulk_update(wines, changed, batch_size=BATCH_ROWS)
    # The same time for every row: one plain UPDATE per chunk, not a CASE per row.
    now = timezone.now()
    pks = sorted(changes)
    for start in range(0, len(pks), IN_CHUNK):
        Wine.objects.filter(pk__in=pks[start : start + IN_CHUNK]).update(updated=now)


def _wine_slug(wine: Wine) -> str:
    return slugify(f"{wine.producer} {wine.name} {wine.vintage or 'NV'}")


def _in_chunks(queryset, lookup: str, values: list, *fields) -> Iterator[tuple]:
    """Yield values_list(*fields) of the rows whose lookup is in values, IN_CHUNK at a time."""
    for start in range(0, len(values), IN_CHUNK):
        chunk = values[start : start + IN_CHUNK]
        yield from queryset.filter(**{f"{lookup}__in": chunk}).values_list(*fields)


def free_slugs(model, texts: list[str], *, max_length: int) -> list[str]:
    """Return one slug per text that no row of model and no other text of the list uses.

    Taken slugs get -2, -3, ...; each round asks the database about all its candidates at once.
    """
    bases = [slugify(text)[:max_length] or "item" for text in texts]
    slugs: list[str | None] = [None] * len(bases)
    taken: set[str] = set()
    pending = list(range(len(bases)))
    n = 1
    while pending:
        candidates = {
            i: bases[i] if n == 1 else f"{bases[i][: max_length - len(str(n)) - 1]}-{n}"
            for i in pending
        }
        wanted = sorted(set(candidates.values()) - taken)
        taken.update(slug for (slug,) in _in_chunks(model.objects, "slug", wanted, "slug"))
        still = []
        for i in pending:
            if candidates[i] in taken:
                still.append(i)
            else:
                taken.add(candidates[i])
                slugs[i] = candidates[i]
        pending = still
        n += 1
    return slugs


# --- Import jobs (the admin's uploads) -------------------------------------------------------


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
