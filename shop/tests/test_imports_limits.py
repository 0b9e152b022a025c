"""Limits on a wine file: what a workbook unpacks to and declares (shop.imports.limits)."""

import io
import zipfile

import pytest

from shop.imports import ImportFileError, ImportFileTooLarge, ImportLimits, open_table, xlsx_check
from shop.tests import workbooks
from shop.tests.wine_files import HEADER, apply, nothing_written

pytestmark = pytest.mark.django_db


def bombs():
    return {
        "huge dimension": workbooks.huge_dimension(),
        "shared strings": workbooks.shared_strings_bomb(5 * 1024 * 1024),
        "many columns": workbooks.with_dimension(workbooks.workbook([["sku"]]), "A1:ZZ2"),
    }


@pytest.mark.parametrize("name", list(bombs()))
def test_workbook_bombs_are_refused_from_the_zip_before_openpyxl_reads_them(name):
    # xlsx_check reads the zip's directory and the sheets' first bytes only; open_table runs it
    # before handing the file to openpyxl.
    with pytest.raises(ImportFileTooLarge):
        xlsx_check(bombs()[name], ImportLimits.from_settings())
    with pytest.raises(ImportFileTooLarge):
        open_table(bombs()[name])


def test_a_workbook_within_the_limits_passes_the_check():
    content = io.BytesIO(workbooks.workbook([workbooks.HEADER.split(","), workbooks.ROW]))
    xlsx_check(content, ImportLimits.from_settings())
    assert content.tell() == 0
    assert open_table(content).header == workbooks.HEADER.split(",")


def test_a_zip_that_is_not_a_workbook_is_not_a_size_error():
    with pytest.raises(ImportFileError) as refused:
        xlsx_check(io.BytesIO(b"PK\x03\x04 broken"), ImportLimits.from_settings())
    assert not isinstance(refused.value, ImportFileTooLarge)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("xl/worksheets/sheet1.xml", '<worksheet><dimension ref="A1:B2"/>')
    xlsx_check(archive, ImportLimits.from_settings())  # small: openpyxl says what is wrong


def test_a_workbook_declaring_a_huge_sheet_is_refused():
    report = apply(workbooks.huge_dimension())
    assert report.file_error.startswith(
        "The sheet declares 1,048,576 rows (its dimension is A1:XFD1048576); "
        "the import takes up to 200,000 rows per file."
    )
    assert not report.rows
    assert nothing_written()


def test_a_workbook_declaring_too_many_columns_is_refused(settings):
    settings.IMPORT_MAX_COLUMNS = 20
    report = apply(workbooks.with_dimension(workbooks.workbook([HEADER.split(",")]), "A1:Z3"))
    assert report.file_error.startswith(
        "The file has a sheet of 26 columns (its dimension is A1:Z3); "
        "the import takes up to 20 columns."
    )


def test_a_shared_strings_bomb_is_refused(settings):
    settings.IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES = 4 * 1024 * 1024
    bomb = workbooks.shared_strings_bomb(5 * 1024 * 1024)
    assert len(bomb.getvalue()) < 20_000
    report = apply(bomb)
    assert report.file_error.startswith(
        "The workbook unpacks to 5.0\xa0MB; the import takes workbooks up to 4.0\xa0MB unpacked."
    )
    assert nothing_written()


def test_a_part_unpacking_hundreds_of_times_its_size_is_refused():
    report = apply(workbooks.shared_strings_bomb(5 * 1024 * 1024))
    assert report.file_error.startswith("The workbook (xl/sharedStrings.xml) unpacks to 4")
    assert "more than the 100 times a spreadsheet program writes" in report.file_error
    assert nothing_written()
