"""Reading a wine file as a header and rows of text, CSV or XLSX (shop.imports.tables)."""

import io
import random
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.models import Wine
from shop.tests import workbooks
from shop.tests.wine_files import (
    HEADER,
    ROW,
    apply,
    csv_file,
    examples,
    forget_the_catalog,
    nothing_written,
)

pytestmark = pytest.mark.django_db


def test_headers_ignore_case_and_a_bom_and_semicolons_work():
    header = "SKU;Name;PRODUCER;Vintage;Category;Country;Region;Price;Stock;Description;Available"
    report = apply(csv_file(ROW.replace(",", ";"), header=header, bom=True))
    assert report.ok, report.errors
    assert Wine.objects.get(sku="A1").price == Decimal("12.50")


def test_wrong_encoding():
    data = (HEADER + "\n" + ROW.replace("Clos", "Clos à l'été") + "\n").encode("cp1252")
    report = apply(io.BytesIO(data))
    assert "not UTF-8" in report.file_error
    assert not report.applied and nothing_written()


def test_empty_file():
    for content in (b"", b"\xef\xbb\xbf", b"  \n\n"):
        assert apply(io.BytesIO(content)).file_error == "The file is empty."
    assert nothing_written()


def test_nul_bytes_are_a_clear_error():
    report = apply(io.BytesIO((HEADER + "\nA1,\x00,x\n").encode()))
    assert report.file_error == "Row 2 holds a NUL character: the file is not CSV text."
    assert nothing_written()


def test_an_xlsx_that_is_a_zip_of_something_else():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("notes.txt", "not a workbook")
    archive.seek(0)
    report = apply(archive, format_hint="xlsx")
    assert report.file_error.startswith("The file is not an Excel workbook (.xlsx)")
    # Chosen as XLSX, but CSV text.
    assert "not an Excel workbook" in apply(csv_file(ROW), format_hint="xlsx").file_error
    assert nothing_written()


def test_twenty_megabytes_of_random_bytes():
    data = random.Random(6).randbytes(20 * 1024 * 1024)
    report = apply(io.BytesIO(data))
    assert report.file_error
    assert "not UTF-8" in report.file_error or "NUL" in report.file_error
    assert nothing_written()


@examples
@given(data=st.binary(max_size=3000))
def test_random_bytes_never_raise_nor_write(data):
    report = apply(io.BytesIO(data))
    assert not report.applied or report.rows
    assert report.rows == report.new + report.updated + report.unchanged + report.invalid
    if not report.applied:
        assert nothing_written()
    forget_the_catalog()


# --- Files past the limits while they stream: refused whole, nothing written -----------------


@pytest.mark.parametrize("dimension", [None, "A1:K2"], ids=["no dimension", "a false one"])
def test_rows_are_counted_as_they_stream(settings, dimension):
    rows = [HEADER.split(","), *([f"S{n}", *workbooks.ROW[1:]] for n in range(6))]
    content = workbooks.workbook(rows)
    settings.IMPORT_MAX_ROWS = 5
    report = apply(workbooks.with_dimension(content, dimension))
    assert report.file_error == (
        "The file has more than 5 rows; the import takes up to 5 rows per file. "
        "Split it into smaller files."
    )
    assert nothing_written()
    # Within the limit, a sheet that understates its size is read whole, not cut off.
    settings.IMPORT_MAX_ROWS = 6
    assert apply(workbooks.with_dimension(content, dimension)).new == 6


def test_a_workbook_row_wider_than_the_limit_is_refused(settings):
    settings.IMPORT_MAX_COLUMNS = 12
    rows = [HEADER.split(","), [*workbooks.ROW, "", None, "x"]]
    report = apply(workbooks.with_dimension(workbooks.workbook(rows), None))
    assert report.file_error.startswith(
        "The file has rows of 14 columns; the import takes up to 12"
    )
    assert nothing_written()


def test_empty_formatted_cells_far_to_the_right_count_as_columns():
    book = openpyxl.Workbook()
    book.active.append(HEADER.split(","))
    book.active.append(workbooks.ROW)
    book.active.cell(row=2, column=78).font = openpyxl.styles.Font(bold=True)  # BZ2, no value
    out = io.BytesIO()
    book.save(out)
    report = apply(workbooks.with_dimension(out.getvalue(), None))
    assert report.file_error.startswith(
        "The file has rows of 78 columns; the import takes up to 50"
    )
    assert nothing_written()


def test_a_csv_with_too_many_rows_is_refused(settings):
    settings.IMPORT_MAX_ROWS = 3
    report = apply(csv_file(*(ROW.replace("A1", f"S{n}") for n in range(4))))
    assert report.file_error.startswith("The file has more than 3 rows;")
    assert nothing_written()
    settings.IMPORT_MAX_ROWS = 4
    assert apply(csv_file(*(ROW.replace("A1", f"S{n}") for n in range(4)))).new == 4


def test_a_csv_with_too_many_columns_is_refused():
    report = apply(csv_file(ROW + "," * 60))
    assert report.file_error.startswith(
        "The file has rows of 71 columns; the import takes up to 50"
    )
    assert nothing_written()


def test_a_csv_cell_past_the_limit_is_refused(settings):
    settings.IMPORT_MAX_CELL_CHARS = 100
    report = apply(csv_file(ROW.replace("Dark fruit.", '"' + "x\n" * 60 + '"')))
    assert report.file_error == (
        "A cell of the file holds more than 100 characters; the import takes cells up to 100 "
        "characters."
    )
    assert nothing_written()


def test_a_csv_line_longer_than_any_row_is_refused(settings):
    settings.IMPORT_MAX_CELL_CHARS = 100
    report = apply(io.BytesIO(HEADER.encode() + b"\n" + b"," * 1_000_000))
    assert report.file_error.startswith("A line of the file is longer than 5,150 characters")
    assert nothing_written()
