import csv
import io

import pytest

from core.spreadsheet import csv_response, safe_cell


@pytest.mark.parametrize("text", ["=1+1", "+33 6 12", "-5", "@SUM(A1)", "\tx", "\rx"])
def test_cells_a_spreadsheet_would_run_are_kept_as_text(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    ("value", "cell"), [("Château Margaux", "Château Margaux"), (12, "12"), (None, "")]
)
def test_other_cells_are_written_as_they_are(value, cell):
    assert safe_cell(value) == cell


def test_a_csv_download_opens_as_utf8_with_safe_cells():
    response = csv_response("wines.csv", ["name", "note"], [["Rosé", "=HYPERLINK()"]])

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="wines.csv"'
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text[1:]))) == [["name", "note"], ["Rosé", "'=HYPERLINK()"]]
