import io

import pytest
from django.core.management import CommandError, call_command

from shop.models import Wine
from shop.tests import workbooks

pytestmark = pytest.mark.django_db

HEADER = "sku,name,producer,vintage,category,country,region,price,stock,description,available"


@pytest.fixture
def write(tmp_path):
    def write(content: bytes, name: str = "wines.csv"):
        path = tmp_path / name
        path.write_bytes(content)
        return str(path)

    return write


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_wines", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_dry_run_reports_and_writes_nothing(write):
    path = write(f"{HEADER}\nA1,W,P,2019,Red,France,,1.00,1,,yes\n".encode())
    out, err = run(path, "--dry-run")
    assert "1 rows checked: 1 new, 0 updated, 0 unchanged, 0 invalid." in out
    assert "Dry run: nothing was written." in out
    assert "100%" in err
    assert not Wine.objects.exists()


def test_import_writes_and_summarises(write):
    path = write(f"{HEADER}\nA1,W,P,2019,Red,France,,1.00,1,,yes\n".encode())
    out, _ = run(path)
    assert "1 rows imported: 1 new" in out
    assert "Imported 1 wines." in out
    assert Wine.objects.filter(sku="A1").exists()


def test_invalid_file_fails_with_its_errors(write):
    path = write(
        f"{HEADER}\nA1,W,P,2019,Red,France,,-1,1,,yes\nA2,W,P,2019,Red,France,,2,x,,yes\n".encode()
    )
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match=r"Nothing was imported\."):
        call_command("import_wines", path, stdout=out, stderr=err)
    assert "Row 2, price: -1 is negative." in err.getvalue()
    assert "Row 3, stock: “x” is not a whole number of bottles." in err.getvalue()
    assert "2 invalid" in out.getvalue()
    assert not Wine.objects.exists()


def test_unreadable_file_fails_with_a_message(write):
    path = write(b"PK\x03\x04 not really a workbook", name="wines.xlsx")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_wines", path, stdout=out, stderr=io.StringIO())
    assert "not an Excel workbook" in out.getvalue()
    with pytest.raises(CommandError, match="No such file"):
        run(path + ".missing")


def test_a_workbook_bomb_fails_with_a_message(write):
    path = write(workbooks.huge_dimension().getvalue(), name="wines.xlsx")
    out = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_wines", path, stdout=out, stderr=io.StringIO())
    assert "The sheet declares 1,048,576 rows" in out.getvalue()
    assert not Wine.objects.exists()


def test_blank_cells_keep_values_unless_erase_blanks(write):
    path = write(f"{HEADER}\nA1,W,P,2019,Red,France,,1.00,1,Notes.,yes\n".encode())
    run(path)
    blank = write(f"{HEADER}\nA1,W,P,2019,Red,France,,1.00,1,,yes\n".encode(), "blank.csv")
    out, _ = run(blank)
    assert "1 blank cell(s) over a value: the values are kept." in out
    assert Wine.objects.get().description == "Notes."
    out, _ = run(blank, "--erase-blanks")
    assert "1 blank cell(s) over a value: they erase it." in out
    assert Wine.objects.get().description == ""
