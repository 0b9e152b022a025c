"""The catalog's search, filters and order in Debian's Chromium, on a desktop and a phone."""

from decimal import Decimal

import pytest

from shop.tests.factories import CategoryFactory, CountryFactory, RegionFactory, WineFactory

# Chromium as on the customer's path: its marks (skipped without it) and its page.
from shop.tests.test_browser import page, pytestmark  # noqa: F401


def open_filters(shown) -> None:
    """Open the filter panel where a phone keeps it folded behind its toggle."""
    if not shown.get_by_label("Country").is_visible():
        shown.locator("details.filter-panel summary").click()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_customer_narrows_the_catalog_without_reaching_an_empty_page(
    live_server,
    page,  # noqa: F811 (the fixture imported above)
    tmp_path,
    width,
):
    red, rose = CategoryFactory(name="Red"), CategoryFactory(name="Rosé")
    france, italy = CountryFactory(name="France"), CountryFactory(name="Italy")
    bordeaux = RegionFactory(country=france, name="Bordeaux")
    provence = RegionFactory(country=france, name="Provence")
    tuscany = RegionFactory(country=italy, name="Toscana")
    WineFactory(name="Château Margaux", category=red, region=bordeaux, price=Decimal("90"))
    WineFactory(name="Château Lagrange", category=red, region=bordeaux, price=Decimal("35"))
    WineFactory(name="Château Simone", category=rose, region=provence, stock=0)
    WineFactory(name="Chianti Classico", category=red, region=tuscany, price=Decimal("15"))
    shots = tmp_path / "catalog-screenshots"
    shots.mkdir()
    page.set_viewport_size({"width": width, "height": 900})

    page.goto(live_server.url)
    page.get_by_label("Search").fill("chateau")
    page.get_by_label("Search").press("Enter")
    assert page.locator(".wine-card").count() == 3
    open_filters(page)
    page.get_by_label("Region").select_option(label="Bordeaux (2)")
    page.get_by_label("Sort by").select_option(label="Price, low to high")
    page.get_by_role("button", name="Filter").click()
    names = page.locator(".wine-card h2").all_inner_texts()
    assert names == ["Château Lagrange 2019", "Château Margaux 2019"]
    page.screenshot(path=shots / f"bordeaux-{width}.png", full_page=True)

    # Another country, the region still chosen: the region goes, and the page says so.
    page.goto(live_server.url)
    open_filters(page)
    page.get_by_label("Region").select_option(label="Bordeaux (2)")
    page.get_by_role("button", name="Filter").click()
    open_filters(page)
    page.get_by_label("Country").select_option(label="Italy (1)")
    page.get_by_role("button", name="Filter").click()
    assert "Bordeaux is a region of France" in page.locator(".notice").inner_text()
    assert page.locator(".wine-card h2").all_inner_texts() == ["Chianti Classico 2019"]
    page.screenshot(path=shots / f"stale-region-{width}.png", full_page=True)

    page.goto(live_server.url)
    open_filters(page)
    page.get_by_label("Hide sold out").check()
    page.get_by_role("button", name="Filter").click()
    assert page.locator(".wine-card").count() == 3
    assert page.locator("link[rel=icon]").get_attribute("href") == "/static/shop/favicon.svg"
    page.screenshot(path=shots / f"in-stock-{width}.png", full_page=True)

    page.get_by_role("link", name="Chianti Classico").click()
    page.get_by_role("button", name="Add to cart").click()
    icon = page.get_by_test_id("cart-summary").locator("svg.cart-icon")
    assert icon.is_visible()
    assert icon.bounding_box()["width"] == 20
    page.screenshot(path=shots / f"cart-icon-{width}.png")
    print(f"Screenshots in {shots}")
