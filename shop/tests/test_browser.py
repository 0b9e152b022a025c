"""The customer's path in Debian's Chromium, driven by Playwright."""

import os
import shutil
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connections

from orders.models import Order
from shop.tests.factories import WineFactory

CHROMIUM = shutil.which("chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    # Playwright runs an event loop in this thread; the test's own ORM calls are synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser.new_page()
        browser.close()
        # Queries made while Playwright runs use connections of their own: close them too.
        connections.close_all()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_customer_browses_fills_cart_and_checks_out(live_server, page):
    wine = WineFactory(name="Château Lagrézette", price=Decimal("24.90"), stock=6)
    WineFactory(name="Barolo Monfalletto", price=Decimal("48.00"))

    page.goto(live_server.url + "/")
    assert page.get_by_test_id("cart-summary").inner_text().strip() == "Your cart is empty"
    page.get_by_role("link", name="Château Lagrézette").click()
    page.get_by_label("Bottles").fill("2")
    page.get_by_role("button", name="Add to cart").click()

    assert "2 bottles" in page.get_by_test_id("cart-summary").inner_text()
    assert "49.80" in page.get_by_test_id("cart-summary").inner_text()
    page.get_by_role("link", name="Checkout").click()
    page.get_by_label("First name").fill("Camille")
    page.get_by_label("Last name").fill("Rodríguez")
    page.get_by_label("Email").fill("camille@example.com")
    page.get_by_label("Address").fill("12 rue des Vignes")
    page.get_by_label("Postal code").fill("33000")
    page.get_by_label("City").fill("Bordeaux")
    page.get_by_role("button", name="Place order").click()

    assert page.get_by_role("heading", name="Thank you, Camille").is_visible()
    assert page.get_by_test_id("cart-summary").inner_text().strip() == "Your cart is empty"
    order = Order.objects.get()
    assert order.total == Decimal("49.80")
    wine.refresh_from_db()
    assert wine.stock == 4
    folder = settings.VAR_DIR / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "order-placed.png"), full_page=True)
