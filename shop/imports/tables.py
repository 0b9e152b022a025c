"""The import file: its columns, and reading a CSV or XLSX file as a header and rows of text."""

import contextlib
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from django.core.files.base import File

from core.spreadsheet import FORMULA_STARTS
from shop.imports.limits import (
    NOT_XLSX,
    ImportFileError,
    ImportFileTooLarge,
    ImportLimits,
    xlsx_check,
)

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
    """Return the header and a stream of the rows of a CSV or XLSX file.

    Raise ImportFileTooLarge, before parsing anything, for a file past the import's limits.
    """
    limits = ImportLimits.from_settings()
    raw = _raw(file)
    raw.seek(0)
    head = raw.read(65536)
    raw.seek(0)
    if not head.strip():
        raise ImportFileError("The file is empty.")
    if head.startswith(b"PK\x03\x04") or format_hint == "xlsx":
        xlsx_check(raw, limits)
        return _xlsx_table(raw, limits)
    return _csv_table(raw, head, limits)


def _csv_table(raw, head: bytes, limits: ImportLimits) -> _Table:
    first_line = head.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    raw.seek(0, io.SEEK_END)
    size = raw.tell() or 1
    raw.seek(0)
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    # The longest line a valid row can take: a longer one (a file of commas, or no line breaks)
    # is refused before the csv module splits it into millions of cells.
    longest = limits.columns * (limits.cell_chars + 3)

    def lines():
        while line := text.readline(longest + 1):
            if len(line) > longest:
                raise ImportFileTooLarge(
                    f"A line of the file is longer than {longest:,} characters, more than any "
                    "row the import takes: the file is not a catalog in CSV."
                )
            yield line

    def records():
        number = 0
        # Process-wide in the csv module; every reader sets it to the import's own limit.
        csv.field_size_limit(limits.cell_chars)
        try:
            for number, cells in enumerate(csv.reader(lines(), delimiter=delimiter), start=1):
                limits.check_row(number, len(cells))
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
            if "field larger than field limit" in str(error):
                raise ImportFileTooLarge(limits.cell_message()) from None
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


def _xlsx_table(raw, limits: ImportLimits) -> _Table:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(raw, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
    except Exception:
        # Anything openpyxl trips on (not a zip, a zip of something else, broken XML) is the
        # file's fault, not a server error.
        raise ImportFileError(NOT_XLSX) from None
    total = sheet.max_row or 0  # from the sheet's dimension, when the writer recorded it
    # Read rows as they are, not padded to the declared dimension, which may be false (too
    # small, rows would be cut off; too large, each row would be padded to it).
    sheet.reset_dimensions()
    read = [0]

    def records():
        number = 0
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                read[0] = number
                # Cells formatted and left empty count: each one costs a place in the row.
                limits.check_row(number, len(values))
                width = len(values)
                while width and values[width - 1] is None:
                    width -= 1
                cells = [_xlsx_text(value) for value in values[:width]]
                for cell in cells:
                    limits.check_cell(cell)
                yield number, cells
        except ImportFileError:
            raise
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


def cell_text(cell: str) -> str:
    """Return a cell's text, without the quote that export puts before a formula start."""
    text = cell.strip()
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text
