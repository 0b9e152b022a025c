import csv
import io
from datetime import UTC, datetime

import pytest
import tablib

from core.spreadsheet import ExcelCSV, csv_response, safe_cell


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


def test_a_moment_is_written_in_the_shops_time_zone(settings):
    settings.TIME_ZONE = "Europe/Paris"
    just_before_midnight_utc = datetime(2026, 1, 1, 23, 30, tzinfo=UTC)

    assert safe_cell(just_before_midnight_utc) == "2026-01-02 00:30:00"
    assert safe_cell(datetime(2026, 7, 1, 22, 15, 5, tzinfo=UTC)) == "2026-07-02 00:15:05"


def test_excel_csv_export_starts_with_a_bom_and_keeps_accents():
    dataset = tablib.Dataset(["Château Lafleur", "Rosé"], headers=["name", "note"])

    text = ExcelCSV().export_data(dataset)

    assert ExcelCSV().get_content_type() == "text/csv; charset=utf-8"
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(text.encode("utf-8").decode("utf-8-sig"))))
    assert rows == [["name", "note"], ["Château Lafleur", "Rosé"]]
