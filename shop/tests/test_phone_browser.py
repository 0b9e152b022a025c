"""The shop on a phone, in Debian's Chromium: every page fits the screen, nothing scrolls sideways.

The screenshots go to a folder of the test's own (printed); look at them after a change.
"""

import os
from decimal import Decimal

import pytest

from coupons.tests.factories import CouponFactory
from shop.tests.factories import WineFactory, flat_zone
from shop.tests.test_browser import CHROMIUM, page  # noqa: F401 - the browser fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        CHROMIUM is None and not os.environ.get("CI"), reason="Debian's chromium is not installed"
    ),
]

PHONE_HEIGHT = 780


def assert_fits(tab) -> None:
    """Nothing on the page is wider than the screen: no sideways scrolling."""
    widths = tab.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{tab.url} is {widths[0]} px wide on a {widths[1]} px screen"


def assert_on_screen(tab, locator) -> None:
    """Every element the locator finds lies within the screen's width."""
    width = tab.evaluate("document.documentElement.clientWidth")
    assert locator.count(), f"nothing matches {locator} on {tab.url}"
    for element in locator.all():
        box = element.bounding_box()
        assert box is not None, f"{element} is not shown on {tab.url}"
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (box, width, tab.url)


def shoot(tab, folder, name: str) -> None:
    tab.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.fixture
def catalog():
    """Three wines with long names, a 10 % coupon and delivery to France."""
    wines = [
        WineFactory(
            name="Château Lagrézette Cuvée Dame Honneur", producer="Château Lagrézette",
            price=Decimal("124.90"), stock=6,
        ),
        WineFactory(
            name="Barolo Riserva Monfalletto Vigna Madonna", producer="Cordero di Montezemolo",
            price=Decimal("48.00"), stock=3,
        ),
        WineFactory(
            name="Riesling Kabinett Wehlener Sonnenuhr", producer="Joh. Jos. Prüm",
            price=Decimal("18.50"), stock=12,
        ),
    ]  # fmt: skip
    CouponFactory(code="WELCOME10", percent_off=10)
    flat_zone("France", countries=("FR",), price="9.90")
    return wines


@pytest.mark.parametrize("width", [360, 390])
def test_every_shop_page_fits_a_phone_screen(
    live_server,
    page,  # noqa: F811
    catalog,
    tmp_path,
    width,
):
    folder = tmp_path / f"phone-{width}px"
    folder.mkdir()
    print(f"screenshots at {width} px: {folder}")
    page.set_viewport_size({"width": width, "height": PHONE_HEIGHT})

    page.goto(live_server.url + "/")
    assert_fits(page)
    # The filters wait behind a toggle, so the first screen shows wines; the header keeps the
    # shop's name and the cart on one line, the search under them.
    assert not page.get_by_label("Category").is_visible()
    assert page.locator(".wine-card").first.bounding_box()["y"] < PHONE_HEIGHT
    brand = page.locator(".brand").bounding_box()
    cart = page.get_by_test_id("cart-summary").bounding_box()
    search = page.get_by_role("searchbox").bounding_box()
    assert abs(brand["y"] + brand["height"] / 2 - cart["y"] - cart["height"] / 2) < 4
    assert search["y"] >= cart["y"] + cart["height"]
    shoot(page, folder, "wine-list")
    page.get_by_text("Filters", exact=True).click()
    assert page.get_by_label("Category").is_visible()
    assert_fits(page)
    shoot(page, folder, "wine-list-filters")

    for wine, bottles in zip(catalog, (2, 1, 3), strict=True):
        page.goto(live_server.url + wine.get_absolute_url())
        assert_fits(page)
        page.get_by_label("Bottles").fill(str(bottles))
        page.get_by_role("button", name="Add to cart").click()
    page.goto(live_server.url + catalog[0].get_absolute_url())
    shoot(page, folder, "wine-detail")

    page.goto(live_server.url + "/cart/")
    page.get_by_label("Coupon code").fill("welcome10")
    page.get_by_role("button", name="Apply").click()
    page.get_by_label("Country to deliver to").select_option("FR")
    page.get_by_role("button", name="Update delivery").click()
    assert "Delivery" in page.get_by_test_id("delivery-line").inner_text()
    assert_fits(page)
    assert_on_screen(page, page.get_by_test_id("cart-total"))
    assert_on_screen(page, page.get_by_test_id("line-total"))
    assert_on_screen(page, page.get_by_role("button", name="Remove"))
    assert page.get_by_role("button", name="Remove").count() == 4  # three wines and the coupon
    shoot(page, folder, "cart")

    # Remove acts at once; the message's Undo puts the wine back.
    page.get_by_role("button", name=f"Remove {catalog[1].name}").click()
    assert page.get_by_text(f"Removed {catalog[1]} from your cart.").is_visible()
    assert page.get_by_test_id("line-total").count() == 2
    assert_fits(page)
    assert_on_screen(page, page.get_by_role("button", name="Undo"))
    shoot(page, folder, "cart-removed")
    page.get_by_role("button", name="Undo").click()
    assert page.get_by_text("Put back 1 wine in your cart.").is_visible()
    assert page.get_by_test_id("line-total").count() == 3

    page.get_by_role("link", name="Checkout").click()
    assert_fits(page)
    summary = page.get_by_role("heading", name="Your order").bounding_box()
    place = page.get_by_role("button", name="Place order").bounding_box()
    assert summary["y"] + summary["height"] <= place["y"]
    shoot(page, folder, "checkout")

    page.goto(live_server.url + "/wine/no-such-wine/")
    assert page.get_by_role("heading", name="We couldn't find that page").is_visible()
    assert_fits(page)
    shoot(page, folder, "not-found")

    # The same pages in French, chosen at the foot of the page, without script.
    page.goto(live_server.url + "/cart/")
    page.get_by_role("button", name="Français").click()
    assert page.url == live_server.url + "/cart/"
    assert page.locator("html").get_attribute("lang") == "fr"
    assert_fits(page)
    assert_on_screen(page, page.get_by_test_id("cart-total"))
    shoot(page, folder, "cart-fr")
    page.goto(live_server.url + "/")
    assert_fits(page)
    shoot(page, folder, "wine-list-fr")


def test_the_cart_and_checkout_on_a_wide_screen(live_server, page, catalog, tmp_path):  # noqa: F811
    folder = tmp_path / "desktop"
    folder.mkdir()
    print(f"screenshots at 1280 px: {folder}")
    page.set_viewport_size({"width": 1280, "height": 900})
    for wine in catalog:
        page.goto(live_server.url + wine.get_absolute_url())
        page.get_by_role("button", name="Add to cart").click()
    page.goto(live_server.url + "/")
    assert page.get_by_label("Category").is_visible()  # no toggle on a wide screen
    assert not page.get_by_text("Filters", exact=True).is_visible()
    shoot(page, folder, "wine-list")

    page.goto(live_server.url + "/cart/")
    assert_fits(page)
    shoot(page, folder, "cart")
    page.get_by_role("link", name="Checkout").click()
    summary = page.get_by_role("heading", name="Your order").bounding_box()
    place = page.get_by_role("button", name="Place order").bounding_box()
    assert summary["y"] + summary["height"] <= place["y"]
    assert summary["x"] > place["x"] + place["width"]  # beside the form
    assert_fits(page)
    shoot(page, folder, "checkout")
