"""The merchant's import in Debian's Chromium: upload, preview, confirm."""

import os

import pytest

from shop.models import Wine
from shop.tests.factories import CountryFactory, RegionFactory, WineFactory
from shop.tests.test_browser import CHROMIUM, page  # noqa: F401 - the browser fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        CHROMIUM is None and not os.environ.get("CI"), reason="Debian's chromium is not installed"
    ),
]

HEADER = "SKU,Name,Producer,Vintage,Category,Country,Region,Price,Stock,Description,Available"


def log_in(browser_page, live_server) -> None:
    """Log in to the admin as "boss", a superuser the test made."""
    browser_page.goto(f"{live_server.url}/admin/login/")
    browser_page.get_by_label("Username").fill("boss")
    browser_page.get_by_label("Password").fill("pw")
    browser_page.get_by_role("button", name="Log in").click()


def test_merchant_previews_then_confirms_an_import(page, live_server, django_user_model, tmp_path):  # noqa: F811
    django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    WineFactory(sku="OLD", name="Old name")
    file = tmp_path / "spring.csv"
    file.write_text(
        f"{HEADER},Colour\n"
        "NEW1,Clos Neuf,Domaine Neuf,2021,Red,France,Loire,14.90,12,,yes,red\n"
        "OLD,New name,Domaine Test,2019,Red,France,,12.50,24,,yes,red\n",
        encoding="utf-8-sig",
    )
    log_in(page, live_server)

    page.goto(f"{live_server.url}/admin/shop/wine/")
    page.locator("a[href$='/admin/shop/wine/import/']").first.click()
    page.set_input_files("input[type=file]", str(file))
    page.get_by_role("button", name="Submit").click()

    page.wait_for_selector("#import-counts")
    assert page.locator('[data-count="new"]').inner_text() == "1"
    assert page.locator('[data-count="updated"]').inner_text() == "1"
    assert "Columns ignored (not part of a wine): colour" in page.content()
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=f"{os.environ['SCREENSHOT_DIR']}/import-preview.png", full_page=True)
    assert not Wine.objects.filter(sku="NEW1").exists()

    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("The file was imported.").wait_for()
    assert Wine.objects.get(sku="OLD").name == "New name"
    assert Wine.objects.get(sku="NEW1").region.name == "Loire"


def test_merchant_sees_what_will_change_before_importing(
    page,  # noqa: F811
    live_server,
    django_user_model,
    tmp_path,
):
    shots = tmp_path / "import-preview"
    shots.mkdir()
    django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    region = RegionFactory(name="Bordeaux", country=CountryFactory(name="France"))
    for n in range(55):
        WineFactory(sku=f"B{n:02d}", name=f"Cuvée {n}", region=region, description="Cassis.")
    lines = [
        f"B{n:02d},Cuvée {n},Domaine Test,2019,Red,France,Bordeaux,{13 + n % 3}.50,24,,yes"
        for n in range(55)
    ]
    lines.append("NEW1,Clos Neuf,Domaine Neuf,2021,Red,France,Bordaux,14.90,12,,yes")
    file = tmp_path / "autumn.csv"
    file.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/shop/wine/import/")
    page.set_input_files("input[type=file]", str(file))
    page.screenshot(path=str(shots / "1-upload-form.png"), full_page=True)
    page.get_by_role("button", name="Submit").click()

    page.wait_for_selector("#import-changes")
    assert page.locator('[data-count="updated"]').inner_text() == "55"
    assert "did you mean “Bordeaux”?" in page.locator("#import-name-hints").inner_text()
    assert "55 blank cells would erase a value" in page.locator("#import-blank-cells").inner_text()
    assert page.locator("#import-changes tbody tr").count() == 50
    page.screenshot(path=str(shots / "2-preview.png"), full_page=True)

    page.get_by_role("button", name="Check again: blank cells erase values").click()
    page.wait_for_selector('#import-blank-cells[data-erase="yes"]')
    page.get_by_role("link", name="Next →").click()
    page.wait_for_selector('#import-changes tr[data-sku="NEW1"]')
    page.screenshot(path=str(shots / "3-preview-page-2-blanks-erase.png"), full_page=True)
    assert Wine.objects.get(sku="B00").description == "Cassis."

    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "\nA1,W,P,20x9,Red,France,,2,1,,yes\n", encoding="utf-8")
    page.goto(f"{live_server.url}/admin/shop/wine/import/")
    page.set_input_files("input[type=file]", str(bad))
    page.get_by_role("button", name="Submit").click()
    page.wait_for_selector('#import-outcome[data-outcome="rejected"]')
    page.goto(f"{live_server.url}/admin/shop/wineimport/")
    rows = page.locator("#result_list tbody tr")
    assert "rejected" in rows.nth(0).inner_text().lower()
    assert "checked, to confirm" in rows.nth(1).inner_text().lower()
    page.screenshot(path=str(shots / "4-wine-imports.png"), full_page=True)
    print(f"screenshots: {shots}")
