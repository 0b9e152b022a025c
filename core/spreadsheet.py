"""CSV output that spreadsheet programs open right: UTF-8 with a BOM, safe cells, local times.

Excel reads a CSV file without a byte order mark in the computer's legacy code page (accented
names come out garbled) and shows a time as it is written: times are written in the shop's time
zone (settings.TIME_ZONE), as "YYYY-MM-DD HH:MM:SS", which it reads as a date and time.
"""

import csv
import io
from collections.abc import Iterable
from datetime import datetime

from django.http import HttpResponse
from django.utils import timezone
from import_export.formats.base_formats import CSV

BOM = "\ufeff"
# A cell starting with one of these is run as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_time(moment: datetime) -> str:
    """Return a moment as the shop's local date and time, as spreadsheets read them."""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment, timezone.get_default_timezone())
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def safe_cell(value) -> str:
    """Return value as text that a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, datetime):
        return cell_time(value)
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(header: list[str], rows: Iterable[Iterable]) -> str:
    """Return a CSV document with a BOM, every cell made safe by safe_cell."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue()


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]) -> HttpResponse:
    response = HttpResponse(csv_text(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class ExcelCSV(CSV):
    """import-export's CSV format, with the BOM and charset that Excel needs to read UTF-8."""

    CONTENT_TYPE = "text/csv; charset=utf-8"

    def export_data(self, dataset, **kwargs):
        return BOM + super().export_data(dataset, **kwargs)
