import io
import zipfile

import pytest

from shop.imports import ImportFileError, ImportFileTooLarge, ImportLimits, open_table, xlsx_check
from shop.tests import workbooks

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
