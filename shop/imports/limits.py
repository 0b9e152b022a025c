"""Limits on an import file: what a workbook unpacks to, and how many rows, columns and characters.

A spreadsheet can weigh little and cost a lot: an .xlsx of 1.5 KB may declare a sheet of
16,384 columns by a million rows (which a reader pads cell by cell for minutes), and shared
strings compress about 1000:1, so a 5 MB upload can unpack to gigabytes in memory. The archive
is inspected before openpyxl reads it, and the rows are counted again while they stream, for a
sheet that declares no dimension or a false one.
"""

import re
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import filesizeformat

from core.exceptions import DomainError


class ImportFileError(DomainError):
    """The file as a whole can't be read; the message is safe to show to the merchant."""


class ImportFileTooLarge(ImportFileError):
    """The file is past one of the import's limits; refused before or while it is read."""


NOT_XLSX = "The file is not an Excel workbook (.xlsx); save it as .xlsx or as CSV UTF-8."

# Parts smaller than this unpacked cost nothing, however well they compress (a sheet's styles).
RATIO_FROM_BYTES = 1024 * 1024
# The dimension is among a worksheet's first elements: this much of the part finds it.
DIMENSION_HEAD_BYTES = 64 * 1024
WORKSHEET = re.compile(r"xl/worksheets/[^/]+\.xml")
DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,9})")


@dataclass(frozen=True)
class ImportLimits:
    rows: int  # data rows, the header not counted
    columns: int
    cell_chars: int
    unpacked_bytes: int  # a workbook's parts, unpacked
    ratio: int  # unpacked size / packed size, of a large part and of the whole workbook

    @classmethod
    def from_settings(cls) -> "ImportLimits":
        return cls(
            rows=settings.IMPORT_MAX_ROWS,
            columns=settings.IMPORT_MAX_COLUMNS,
            cell_chars=settings.IMPORT_MAX_CELL_CHARS,
            unpacked_bytes=settings.IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES,
            ratio=settings.IMPORT_XLSX_MAX_RATIO,
        )

    def check_row(self, number: int, width: int) -> None:
        """Refuse the file at the first row past the row or the column limit."""
        if number > self.rows + 1:
            raise ImportFileTooLarge(
                f"The file has more than {self.rows:,} rows; the import takes up to "
                f"{self.rows:,} rows per file. Split it into smaller files."
            )
        if width > self.columns:
            raise ImportFileTooLarge(self.columns_message(f"rows of {width:,} columns"))

    def check_cell(self, text: str) -> None:
        if len(text) > self.cell_chars:
            raise ImportFileTooLarge(self.cell_message())

    def columns_message(self, found: str) -> str:
        return (
            f"The file has {found}; the import takes up to {self.columns:,} columns. Delete "
            "the extra columns (cells formatted far to the right count too)."
        )

    def cell_message(self) -> str:
        return (
            f"A cell of the file holds more than {self.cell_chars:,} characters; the import "
            f"takes cells up to {self.cell_chars:,} characters."
        )


def xlsx_check(raw, limits: ImportLimits) -> None:
    """Refuse a workbook whose archive or declared sheet size is past the limits.

    Reads only the zip's directory and the first bytes of each worksheet. The sizes in the
    directory can be trusted: zipfile stops unpacking a part at its declared size, and a part
    that doesn't end there fails its checksum.
    """
    raw.seek(0)
    try:
        with zipfile.ZipFile(raw) as archive:
            parts = archive.infolist()
            _check_sizes(parts, limits)
            for part in parts:
                if WORKSHEET.fullmatch(part.filename):
                    with archive.open(part) as stream:
                        head = stream.read(DIMENSION_HEAD_BYTES)
                    _check_dimension(head, limits)
    except ImportFileError:
        raise
    except Exception:
        # Not a zip, an encrypted or broken part: the file's fault, not a server error.
        raise ImportFileError(NOT_XLSX) from None
    finally:
        raw.seek(0)


def _check_sizes(parts: list[zipfile.ZipInfo], limits: ImportLimits) -> None:
    unpacked = sum(part.file_size for part in parts)
    if unpacked > limits.unpacked_bytes:
        raise ImportFileTooLarge(
            f"The workbook unpacks to {filesizeformat(unpacked)}; the import takes workbooks "
            f"up to {filesizeformat(limits.unpacked_bytes)} unpacked. Split it into smaller "
            "files or save it as CSV UTF-8."
        )
    packed = sum(part.compress_size for part in parts)
    for name, size, compressed in [
        *((part.filename, part.file_size, part.compress_size) for part in parts),
        ("as a whole", unpacked, packed),
    ]:
        if size > RATIO_FROM_BYTES and size > limits.ratio * max(compressed, 1):
            raise ImportFileTooLarge(
                f"The workbook ({name}) unpacks to {size // max(compressed, 1):,} times its "
                f"size, more than the {limits.ratio:,} times a spreadsheet program writes: "
                "it is refused as unsafe. Save it again from your spreadsheet program."
            )


def _check_dimension(head: bytes, limits: ImportLimits) -> None:
    """Refuse a sheet whose declared extent (its dimension, e.g. A1:K120) is past the limits."""
    match = DIMENSION.search(head)
    if match is None:
        return  # no dimension: the rows are counted as they stream
    ref = match.group(1).decode("ascii", errors="replace")
    cells = [CELL_REF.fullmatch(end.strip()) for end in ref.split(":")]
    if not all(cells):
        return  # unreadable: openpyxl refuses it, or the rows are counted as they stream
    rows = max(int(cell.group(2)) for cell in cells)
    columns = max(_column_number(cell.group(1)) for cell in cells)
    if rows > limits.rows + 1:
        raise ImportFileTooLarge(
            f"The sheet declares {rows:,} rows (its dimension is {ref}); the import takes up "
            f"to {limits.rows:,} rows per file. Split it into smaller files, or clear the "
            "cells formatted down to the end of the sheet."
        )
    if columns > limits.columns:
        raise ImportFileTooLarge(
            limits.columns_message(f"a sheet of {columns:,} columns (its dimension is {ref})")
        )


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number
