"""Wine files for the wine import's tests: CSV and XLSX content, applied, and what it wrote."""

import io

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck
from hypothesis import settings as hsettings

from shop.imports import ImportReport, wine_file_apply
from shop.models import Category, Country, Region, Wine

HEADER = "sku,name,producer,vintage,category,country,region,price,stock,description,available"
# A file of one good row, and the same row with a negative price.
GOOD_FILE = (HEADER + "\nA1,Cuvée,Dom,2019,Red,France,Loire,12.50,3,,yes\n").encode()
BAD_FILE = (HEADER + "\nA1,Cuvée,Dom,2019,Red,France,Loire,-1,3,,yes\n").encode()
ROW = "A1,Clos du Test,Domaine Un,2019,Red,France,Bordeaux,12.50,6,Dark fruit.,yes"

# The example count comes from the profile (conftest.py): the suite's, or the drills'.
examples = hsettings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def csv_file(*rows: str, header: str = HEADER, bom: bool = False) -> io.BytesIO:
    text = "\r\n".join([header, *rows]) + "\r\n"
    return io.BytesIO((("\ufeff" if bom else "") + text).encode())


def xlsx_file(rows: list[list]) -> io.BytesIO:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    return out


def apply(file, **kwargs) -> ImportReport:
    return wine_file_apply(file=file, dry_run=False, **kwargs)


def nothing_written() -> bool:
    return not (
        Wine.objects.exists()
        or Category.objects.exists()
        or Country.objects.exists()
        or Region.objects.exists()
    )


def messages(report: ImportReport) -> list[str]:
    return [str(error) for error in report.errors]


def forget_the_catalog() -> None:
    """Delete what an example wrote, before the next example of a Hypothesis test."""
    Wine.objects.all().delete()
    Region.objects.all().delete()
    Category.objects.all().delete()
    Country.objects.all().delete()


def upload(content: bytes = GOOD_FILE, name: str = "wines.csv") -> SimpleUploadedFile:
    """Return the file as the admin's form hands it over."""
    return SimpleUploadedFile(name, content)
