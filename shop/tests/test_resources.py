import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from shop.imports import COLUMNS, wine_file_apply
from shop.tests.factories import RegionFactory, WineFactory

pytestmark = pytest.mark.django_db

EXPORT_URL = reverse("admin:shop_wine_export")
CSV_FORMAT, XLSX_FORMAT = "0", "1"


def export(client, file_format=CSV_FORMAT, query=""):
    data = {"format": file_format, "resource": "0"}
    data |= {f"wineresource_{name}": "on" for name in COLUMNS}
    response = client.post(EXPORT_URL + query, data)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.fixture
def catalog():
    region = RegionFactory(name="Rioja")
    return [
        WineFactory(sku="F1", name="=Cuvée", description="-dry and +fresh", region=region),
        WineFactory(sku="F2", name="@home", producer="+Maison", vintage=None, region=region),
        WineFactory(sku="F3", name="Plain", region=region, available=False, price=Decimal("9.00")),
        WineFactory(sku="F4", name="No region", region=region, description="\tindented", stock=0),
    ]


def test_export_has_the_import_columns_and_neutralises_formulas(admin_client, catalog):
    from shop.models import Wine

    Wine.objects.filter(sku="F4").update(region=None)
    rows = csv_rows(export(admin_client))
    assert rows[0] == list(COLUMNS)
    by_sku = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert by_sku["F1"]["name"] == "'=Cuvée"
    assert by_sku["F1"]["description"] == "'-dry and +fresh"
    assert (by_sku["F2"]["name"], by_sku["F2"]["producer"]) == ("'@home", "'+Maison")
    assert by_sku["F2"]["vintage"] == ""
    assert (by_sku["F3"]["price"], by_sku["F3"]["available"]) == ("9.00", "no")
    assert by_sku["F4"]["region"] == ""
    assert by_sku["F4"]["description"] == "'\tindented"


@pytest.mark.parametrize("file_format", [CSV_FORMAT, XLSX_FORMAT])
def test_export_then_import_changes_nothing(admin_client, catalog, file_format):
    from shop.models import Wine

    Wine.objects.filter(sku="F4").update(region=None)
    before = list(Wine.objects.order_by("sku").values())
    response = export(admin_client, file_format)
    report = wine_file_apply(file=io.BytesIO(response.content), dry_run=False)
    assert report.ok, report.errors
    assert (report.new, report.updated, report.unchanged) == (0, 0, len(catalog))
    assert list(Wine.objects.order_by("sku").values()) == before


def test_xlsx_export_keeps_numbers_as_numbers(admin_client, catalog):
    response = export(admin_client, XLSX_FORMAT)
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    row = {name: cell.value for name, cell in zip(header, sheet[2], strict=True)}
    assert row["sku"] == "F1"
    assert row["stock"] == 24
    assert row["name"] == "'=Cuvée"


def test_export_follows_the_changelist_filters(admin_client, catalog):
    rows = csv_rows(export(admin_client, query="?available__exact=0"))
    assert [row[0] for row in rows[1:]] == ["F3"]


def test_export_needs_the_view_permission(client, django_user_model, catalog):
    user = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(user)
    assert client.post(EXPORT_URL, {"format": CSV_FORMAT}).status_code == 403


def test_csv_export_starts_with_a_bom_so_accents_open_right_in_excel(admin_client):
    WineFactory(sku="A1", name="Château Lafleur", producer="Domaine Lefèvre")

    response = export(admin_client)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    (row,) = [dict(zip(COLUMNS, r, strict=True)) for r in csv_rows(response)[1:]]
    assert (row["name"], row["producer"]) == ("Château Lafleur", "Domaine Lefèvre")
