"""The wine import in the admin: upload, preview, confirm, and the list of imports."""

import io
import random
import re
import zipfile

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from shop.models import Category, Wine, WineImport
from shop.tests import workbooks
from shop.tests.factories import WineFactory
from shop.tests.wine_files import GOOD_FILE, HEADER

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("admin:shop_wine_import")


def upload(client, content: bytes, name: str = "wines.csv", file_format: str = ""):
    file = io.BytesIO(content)
    file.name = name
    return client.post(IMPORT_URL, {"import_file": file, "format": file_format, "resource": "0"})


def detail_url(wine_import) -> str:
    return reverse("admin:shop_wine_import_detail", args=[wine_import.pk])


def confirm_url(wine_import) -> str:
    return reverse("admin:shop_wine_import_confirm", args=[wine_import.pk])


def count(html: str, name: str) -> int:
    return int(re.search(rf'data-count="{name}">(\d+)<', html).group(1))


def test_changelist_links_to_import_and_export(admin_client):
    html = admin_client.get(reverse("admin:shop_wine_changelist")).content.decode()
    assert IMPORT_URL in html
    assert reverse("admin:shop_wine_export") in html


def test_import_page_shows_the_columns_and_the_form(admin_client):
    response = admin_client.get(IMPORT_URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "sku, name, producer, vintage, category, country, region, price" in html
    assert 'type="file"' in html


def test_upload_previews_then_confirm_applies_the_same_file_once(admin_client):
    WineFactory(sku="OLD", name="Old")
    response = upload(
        admin_client, GOOD_FILE.replace(b"\n", b"\nOLD,Renamed,P,,Red,France,,1,0,,yes\n", 1)
    )
    wine_import = WineImport.objects.get()
    assert response["Location"] == detail_url(wine_import)
    html = admin_client.get(detail_url(wine_import)).content.decode()
    assert (count(html, "new"), count(html, "updated"), count(html, "invalid")) == (1, 1, 0)
    assert "New regions: Loire (France)" in html
    assert "Confirm: import 1 new and 1 updated wines" in html
    assert not Wine.objects.filter(sku="A1").exists()
    assert wine_import.dry_run and wine_import.status == WineImport.Status.DONE
    assert wine_import.file.open("rb").read().startswith(b"sku,name")

    response = admin_client.post(confirm_url(wine_import))
    assert response["Location"] == detail_url(wine_import)
    assert Wine.objects.get(sku="OLD").name == "Renamed"
    html = admin_client.get(detail_url(wine_import)).content.decode()
    assert "The file was imported." in html
    assert "Confirm" not in html

    # A second click (or a replayed form) finds the import applied already.
    admin_client.post(confirm_url(wine_import))
    assert Wine.objects.filter(sku="A1").count() == 1
    wine_import.refresh_from_db()
    assert (wine_import.dry_run, wine_import.status, wine_import.rows_processed) == (
        False,
        "done",
        2,
    )


def test_confirm_only_accepts_post(admin_client):
    upload(admin_client, GOOD_FILE)
    wine_import = WineImport.objects.get()
    assert admin_client.get(confirm_url(wine_import)).status_code == 405
    assert not Wine.objects.exists()


def test_invalid_rows_are_listed_and_cannot_be_confirmed(admin_client):
    content = HEADER + "\nA1,W,P,2019,Red,France,,-2,1,,yes\nA2,W,P,20x9,Red,France,,2,1,,yes\n"
    upload(admin_client, content.encode())
    wine_import = WineImport.objects.get()
    html = admin_client.get(detail_url(wine_import)).content.decode()
    assert count(html, "invalid") == 2
    assert "Row 2, <code>price</code>: -2 is negative." in html
    assert "Row 3, <code>vintage</code>: “20x9” is not a year" in html
    assert "Confirm" not in html
    admin_client.post(confirm_url(wine_import))
    assert not Wine.objects.exists() and not Category.objects.exists()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.csv", "The submitted file is empty."),
        (HEADER.encode() + b"\n", "header.csv", "The file has a header but no rows."),
        ("sku,name\nA,é\n".encode("cp1252"), "latin.csv", "not UTF-8 text"),
        (b"sku,name\nA,B\n", "missing.csv", "Missing required column(s): producer"),
        (random.Random(1).randbytes(200_000), "noise.csv", "The file is not UTF-8"),
    ],
)
def test_bad_files_get_a_clear_message_and_write_nothing(admin_client, content, name, message):
    response = upload(admin_client, content, name)
    page = admin_client.get(response["Location"]) if response.status_code == 302 else response
    assert page.status_code == 200
    assert message in page.content.decode()
    assert not Wine.objects.exists()


def test_an_xlsx_that_is_a_zip_of_something_else(admin_client):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("word/document.xml", "<w/>")
    response = upload(admin_client, archive.getvalue(), "catalog.xlsx", file_format="1")
    html = admin_client.get(response["Location"]).content.decode()
    assert "The file is not an Excel workbook (.xlsx)" in html
    assert not Wine.objects.exists()


def test_a_file_over_the_admin_limit_is_refused(admin_client, settings):
    settings.IMPORT_MAX_BYTES = 100
    response = upload(admin_client, GOOD_FILE * 3)
    assert response.status_code == 200
    assert "the admin takes files up to 100" in response.content.decode()
    assert not WineImport.objects.exists()


def test_a_large_file_is_checked_and_applied_by_a_task(
    admin_client, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_SYNC_MAX_BYTES = 10
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(admin_client, GOOD_FILE)
    wine_import = WineImport.objects.get()
    assert wine_import.status == WineImport.Status.QUEUED
    html = admin_client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' in html and "queued" in html
    for callback in callbacks:
        callback()  # the task, run eagerly as the suite's Celery does
    wine_import.refresh_from_db()
    assert (wine_import.status, wine_import.dry_run, wine_import.rows_processed) == (
        "done",
        True,
        1,
    )
    assert not Wine.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(confirm_url(wine_import))
    wine_import.refresh_from_db()
    assert (wine_import.status, wine_import.dry_run) == ("done", False)
    assert Wine.objects.filter(sku="A1").exists()


def test_import_needs_add_and_change_permissions(client, django_user_model):
    user = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_wine", "change_wine"]))
    client.force_login(user)
    assert client.get(IMPORT_URL).status_code == 403
    assert upload(client, GOOD_FILE).status_code == 403
    assert not WineImport.objects.exists()


def test_wine_imports_are_listed(admin_client):
    upload(admin_client, GOOD_FILE, name="spring.csv")
    html = admin_client.get(reverse("admin:shop_wineimport_changelist")).content.decode()
    assert "spring.csv" in html
    assert detail_url(WineImport.objects.get()) in html
    # and under the upload form, the latest first
    recent = admin_client.get(IMPORT_URL).content.decode().split('id="recent-imports"')[1]
    assert f'href="{detail_url(WineImport.objects.get())}">spring.csv</a>' in recent
    assert "preview done" in recent


def test_a_workbook_bomb_is_refused_on_the_preview_page(admin_client):
    response = upload(admin_client, workbooks.huge_dimension().getvalue(), "catalog.xlsx")
    page = admin_client.get(response["Location"])
    assert page.status_code == 200
    assert "The sheet declares 1,048,576 rows" in page.content.decode()
    assert WineImport.objects.get().summary["file_error"]
    assert not Wine.objects.exists()


def test_an_upload_past_the_request_limit_is_refused_before_it_is_read(admin_client, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 2000
    response = upload(admin_client, GOOD_FILE * 40)
    assert response.status_code == 413
    assert "That upload is too large" in response.content.decode()
    assert not WineImport.objects.exists()
    assert upload(admin_client, GOOD_FILE).status_code == 302


def test_an_unknown_wine_import_is_not_found(admin_client):
    assert admin_client.get(reverse("admin:shop_wine_import_detail", args=[404])).status_code == 404
    assert (
        admin_client.post(reverse("admin:shop_wine_import_confirm", args=[404])).status_code == 404
    )
