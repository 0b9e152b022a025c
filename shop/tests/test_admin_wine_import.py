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
from shop.tests.factories import CountryFactory, RegionFactory, WineFactory
from shop.tests.wine_files import BAD_FILE, GOOD_FILE, HEADER

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
    assert "preview checked, to confirm" in recent


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


def blank_cells_url(wine_import) -> str:
    return reverse("admin:shop_wine_import_blank_cells", args=[wine_import.pk])


def catalog_rows(count: int) -> bytes:
    """A file of count wines whose price is one euro more than their WineFactory price."""
    wines = WineFactory.create_batch(count, description="Old notes.")
    lines = [
        f"{w.sku},{w.name},{w.producer},{w.vintage},{w.category.name},{w.country.name},"
        f"{w.region.name},13.50,{w.stock},,yes"
        for w in wines
    ]
    return "\n".join([HEADER, *lines, "NEW1,Nouveau,Dom,2020,Red,France,,8.00,2,,yes"]).encode()


def test_preview_pages_the_new_and_updated_wines_with_old_and_new_values(
    admin_client, django_assert_max_num_queries
):
    upload(admin_client, catalog_rows(60))
    wine_import = WineImport.objects.get()

    with django_assert_max_num_queries(12):
        html = admin_client.get(detail_url(wine_import)).content.decode()
    table = html.split('id="import-changes"')[1]
    assert table.count('data-kind="updated"') == 50
    assert "<del" in table and "12.50" in table and "13.50" in table
    assert 'data-field="description"' not in table  # a blank cell keeps the notes
    assert "Page 1 of 2" in html
    second = admin_client.get(detail_url(wine_import) + "?page=2").content.decode()
    table = second.split('id="import-changes"')[1]
    assert table.count('data-kind="updated"') == 10
    assert table.count('data-kind="new"') == 1
    assert 'data-sku="NEW1"' in table
    # A page that isn't one shows the first or the last, not an error.
    assert admin_client.get(detail_url(wine_import) + "?page=x").status_code == 200
    assert "Page 2 of 2" in admin_client.get(detail_url(wine_import) + "?page=9").content.decode()


def test_blank_cells_keep_values_until_the_merchant_chooses_to_erase_them(admin_client):
    wine = WineFactory(sku="OLD", name="Old", description="Cassis.")
    line = f"OLD,Old,{wine.producer},{wine.vintage},{wine.category.name},{wine.country.name},"
    line += f"{wine.region.name},{wine.price},{wine.stock},,yes"
    upload(admin_client, f"{HEADER}\n{line}\n".encode())
    wine_import = WineImport.objects.get()
    html = admin_client.get(detail_url(wine_import)).content.decode()
    assert 'data-erase="no"' in html
    assert "1 blank cell would erase a value of a wine: it leaves the value as it is." in html
    assert "Row 2 (OLD), <code>description</code>: “Cassis.”" in html
    assert count(html, "unchanged") == 1

    response = admin_client.post(blank_cells_url(wine_import), {"blank_cells": "erase"})
    assert response["Location"] == detail_url(wine_import)
    html = admin_client.get(detail_url(wine_import)).content.decode()
    assert 'data-erase="yes"' in html and count(html, "updated") == 1
    assert "erased" in html.split('id="import-changes"')[1]
    admin_client.post(confirm_url(wine_import))
    assert Wine.objects.get(sku="OLD").description == ""


def test_the_upload_form_offers_blank_cells_erase_values(admin_client):
    html = admin_client.get(IMPORT_URL).content.decode()
    assert "Blank cells leave values as they are" in html
    wine = WineFactory(sku="OLD", description="Cassis.")
    line = f"OLD,{wine.name},{wine.producer},{wine.vintage},{wine.category.name},"
    line += f"{wine.country.name},{wine.region.name},{wine.price},{wine.stock},,yes"
    file = io.BytesIO(f"{HEADER}\n{line}\n".encode())
    file.name = "wines.csv"
    admin_client.post(IMPORT_URL, {"import_file": file, "resource": "0", "blank_cells": "erase"})
    wine_import = WineImport.objects.get()
    assert wine_import.erase_blanks
    assert wine_import.summary["updated"] == 1


def test_blank_cells_choice_is_refused_for_an_applied_import_or_a_bad_value(admin_client):
    upload(admin_client, GOOD_FILE)
    wine_import = WineImport.objects.get()
    response = admin_client.post(
        blank_cells_url(wine_import), {"blank_cells": "maybe"}, follow=True
    )
    assert "Choose what blank cells do." in response.content.decode()
    admin_client.post(confirm_url(wine_import))
    response = admin_client.post(
        blank_cells_url(wine_import), {"blank_cells": "erase"}, follow=True
    )
    assert "Only a finished preview can be checked again." in response.content.decode()
    wine_import.refresh_from_db()
    assert not wine_import.erase_blanks and not wine_import.dry_run
    assert admin_client.get(blank_cells_url(wine_import)).status_code == 405


def test_new_names_that_look_like_typos_get_a_did_you_mean(admin_client):
    RegionFactory(name="Bordeaux", country=CountryFactory(name="France"))
    upload(
        admin_client, (HEADER + "\nA1,Cuvée,Dom,2019,Red,France,Bordaux,12.50,3,,yes\n").encode()
    )
    html = admin_client.get(detail_url(WineImport.objects.get())).content.decode()
    hints = html.split('id="import-name-hints"')[1]
    assert "New region “Bordaux (France)”: did you mean “Bordeaux”?" in hints


def test_a_preview_with_invalid_rows_is_shown_as_rejected(admin_client):
    upload(admin_client, BAD_FILE, name="bad.csv")
    upload(admin_client, GOOD_FILE, name="good.csv")
    bad, good = WineImport.objects.order_by("pk")
    assert 'data-outcome="rejected"' in admin_client.get(detail_url(bad)).content.decode()
    assert 'data-outcome="checked"' in admin_client.get(detail_url(good)).content.decode()
    changelist = admin_client.get(reverse("admin:shop_wineimport_changelist")).content.decode()
    assert "rejected" in changelist and "done" not in changelist.split("<tbody")[1].lower()
    recent = admin_client.get(IMPORT_URL).content.decode().split('id="recent-imports"')[1]
    assert 'data-outcome="rejected"' in recent and "preview rejected" in recent


def test_the_list_of_changes_says_whether_they_will_be_made_or_were(admin_client):
    content = HEADER + "\nA1,W,P,2019,Red,France,,2,1,,yes\nA2,W,P,20x9,Red,France,,2,1,,yes\n"
    upload(admin_client, content.encode(), name="bad.csv")
    upload(admin_client, GOOD_FILE, name="good.csv")
    bad, good = WineImport.objects.order_by("pk")
    assert "nothing will be imported" in admin_client.get(detail_url(bad)).content.decode()
    assert "What will change" in admin_client.get(detail_url(good)).content.decode()
    admin_client.post(confirm_url(good))
    assert "What changed" in admin_client.get(detail_url(good)).content.decode()
