"""Checking every row of an import file, and writing the new wines and the changed ones."""

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.text import slugify

from shop.catalog_cache import catalog_changed
from shop.imports.bulk import BATCH_ROWS, free_slugs, in_chunks, update
from shop.imports.names import Names, Regions
from shop.imports.report import MAX_WINE_CHANGES, FieldChange, ImportReport, WineChange
from shop.imports.skus import SeenSkus
from shop.imports.tables import COLUMNS, REQUIRED_COLUMNS, ImportFileError, cell_text, open_table
from shop.models import Category, Country, Wine, place_names, wine_search_text

MAX_PRICE = Decimal("99999999.99")
MAX_STOCK = 2_147_483_647
TRUE_WORDS = {"yes", "y", "true", "1", "oui"}
FALSE_WORDS = {"no", "n", "false", "0", "non"}
NON_VINTAGE = {"nv", "n.v.", "n/v"}
# Columns whose blank cell can erase a wine's value (a blank stock or available is no value).
ERASABLE = ("vintage", "region", "description")

Progress = Callable[[int, float | None], None]


def wine_file_apply(
    *,
    file,
    format_hint: str = "",
    dry_run: bool = True,
    erase_blanks: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Check (dry_run) or apply a wine file; never raise for what the file holds.

    file is a seekable binary file (an upload, a stored file, an open file). Applying writes
    nothing unless every row is valid. A blank vintage, region or description of an existing
    wine leaves its value as it is, unless erase_blanks ("NV" erases a vintage either way).
    """
    report = ImportReport(erase_blanks=erase_blanks)
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


class _Import:
    def __init__(self, report: ImportReport, *, writing: bool, progress: Progress | None):
        self.report = report
        self.writing = writing
        self.progress = progress
        self.this_year = timezone.localdate().year

    def run(self, file, format_hint: str) -> None:
        self.seen = SeenSkus()
        try:
            self._run(file, format_hint)
        finally:
            self.seen.close()

    def _run(self, file, format_hint: str) -> None:
        table = open_table(file, format_hint)
        self.columns = self._columns(table.header)
        hints = self.report.name_hints
        self.categories = Names(Category, self.report.new_categories, hints, "category")
        self.countries = Names(Country, self.report.new_countries, hints, "country")
        self.regions = Regions(self.countries, self.report.new_regions, hints)
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
            name: cell_text(cells[index]) if index < len(cells) else ""
            for name, index in self.columns.items()
        }
        errors = []
        values = {
            "row": number,
            "blank": [column for column in ERASABLE if column in raw and not raw[column]],
        }

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
        first = self.seen.first_row(sku, number) if sku else None
        if first is not None:
            fail("sku", f"“{sku}” is also on row {first}.")
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
        for pk, sku, *old in in_chunks(Wine.objects.all(), "sku", skus, "pk", "sku", *fields):
            existing[sku] = (pk, dict(zip(fields, old, strict=True)))
        created, changes = [], {}
        for row in batch:
            new = self._attributes(row)
            found = existing.get(row["sku"])
            if found is None:
                self.report.new += 1
                self._list(row, new)
                if writing:
                    created.append(Wine(sku=row["sku"], **new))
                continue
            pk, old = found
            self._blanks(row, new, old)
            # A field absent from new (a blank stock cell, a kept blank) stays as it is.
            changed = [f for f in fields if f in new and new[f] != old[f]]
            if changed:
                self.report.updated += 1
                self._list(row, new, old, changed)
                if writing:
                    changes[pk] = new
            else:
                self.report.unchanged += 1
        if created:
            bases = [_wine_slug(wine) for wine in created]
            for wine, slug in zip(created, free_slugs(Wine, bases, max_length=200), strict=True):
                wine.slug = slug
            names = place_names()
            for wine in created:
                wine.search_text = wine_search_text(wine, names=names)
            Wine.objects.bulk_create(created, batch_size=BATCH_ROWS)
        if changes:
            update(changes, fields)

    def _blanks(self, row: dict, new: dict, old: dict) -> None:
        """Count the row's blank cells over a value; unless blanks erase, keep the values."""
        for column in row["blank"]:
            field = "region_id" if column == "region" else column
            if old[field] in (None, ""):
                continue
            if field == "region_id" and new["country_id"] != old["country_id"]:
                continue  # the region of another country goes with it
            self.report.add_blank(row["row"], row["sku"], column, self._old_text(field, old[field]))
            if not self.report.erase_blanks:
                del new[field]

    def _list(self, row: dict, new: dict, old: dict | None = None, changed=()) -> None:
        """List a new wine with its values, or an updated one with its old and new values."""
        if len(self.report.wine_changes) >= MAX_WINE_CHANGES:
            return
        if old is None:
            texts = ((f, self._new_text(f, row, new)) for f in _COMPARED if f in new)
            fields = [FieldChange(f.removesuffix("_id"), "", text) for f, text in texts if text]
        else:
            fields = [
                FieldChange(
                    f.removesuffix("_id"),
                    self._old_text(f, old[f]),
                    self._new_text(f, row, new),
                    erases=f.removesuffix("_id") in row["blank"],
                )
                for f in changed
            ]
        change = WineChange(row["row"], row["sku"], row["name"], old is None, fields)
        self.report.add_wine_change(change)

    def _new_text(self, field: str, row: dict, new: dict) -> str:
        if field == "category_id":
            return self.categories.names[row["category"]]
        if field == "country_id":
            return self.countries.names[row["country"]]
        if field == "region_id":
            return self.regions.name(row["region"]) if row["region"] else ""
        return _text(new[field])

    def _old_text(self, field: str, value) -> str:
        if field == "category_id":
            return self.categories.labels[value]
        if field == "country_id":
            return self.countries.labels[value]
        if field == "region_id":
            return self.regions.labels[value] if value else ""
        return _text(value)

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
# count of bottles for sale and replaces the stock (see README, "Wine import and export").
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


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _wine_slug(wine: Wine) -> str:
    return slugify(f"{wine.producer} {wine.name} {wine.vintage or 'NV'}")
