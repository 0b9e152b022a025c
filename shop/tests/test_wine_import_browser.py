"""The merchant's import in Debian's Chromium: upload, preview, confirm."""

import os

import pytest

from shop.models import Wine
from shop.tests.factories import WineFactory
from shop.tests.test_browser import CHROMIUM, page  # noqa: F401 - the browser fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        CHROMIUM is None and not os.environ.get("CI"), reason="Debian's chromium is not installed"
    ),
]

HEADER = "SKU,Name,Producer,Vintage,Category,Country,Region,Price,Stock,Description,Available"


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
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()

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
