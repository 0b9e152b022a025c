"""Each role's day in Debian's Chromium, on a desktop and on a 390 px phone.

A customer finds a wine, pays on Stripe's page (the local sandbox) and opens their order by its
link; a merchant signs in, finds an order by a name typed without accents and previews an
import; an operator runs a scheduled job now and finds Flower. Every step is a screenshot in a
folder the test names (printed; JOURNEY_SCREENSHOTS keeps them elsewhere), to look at.
"""

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from backoffice.schedule import setup_schedule
from orders.models import Order
from orders.tests.factories import customer, place
from shop.tests import test_browser
from shop.tests.factories import WineFactory

pytestmark = test_browser.pytestmark
page = test_browser.page
sandbox = test_browser.sandbox

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


class Journey:
    """A browser at one viewport that screenshots each step into its own folder."""

    def __init__(self, page, base_url: str, folder: Path, viewport: str):
        self.page, self.base_url, self.folder = page, base_url, folder
        self.viewport = viewport
        self.steps = 0
        page.set_viewport_size(VIEWPORTS[viewport])

    def go(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def shot(self, name: str) -> None:
        self.steps += 1
        self.page.screenshot(path=str(self.folder / f"{self.steps:02d}-{name}.png"), full_page=True)

    def fits(self) -> bool:
        """Whether the page needs no sideways scrolling at this width."""
        return self.page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )

    def sign_in(self, username: str, password: str) -> None:
        self.go("/admin/login/")  # no next: the dashboard, not a 404
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Log in").click()
        assert self.page.url == self.base_url + "/admin/"


@pytest.fixture(params=sorted(VIEWPORTS))
def journey(request, page, live_server, tmp_path):
    name = request.node.originalname.removeprefix("test_")
    folder = Path(os.environ.get("JOURNEY_SCREENSHOTS") or tmp_path) / f"{name}-{request.param}"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folder}")
    return Journey(page, live_server.url, folder, request.param)


def test_customer_journey(journey, sandbox):
    WineFactory(name="Château Lagrézette", price=Decimal("24.90"), stock=6)
    WineFactory(name="Barolo Monfalletto", price=Decimal("48.00"), stock=3)
    page = journey.page

    journey.go("/?q=chateau")  # typed without its accent
    assert page.get_by_role("link", name="Château Lagrézette").first.is_visible()
    assert not page.get_by_role("link", name="Barolo Monfalletto").count()
    assert journey.fits()
    journey.shot("search")

    page.get_by_role("link", name="Château Lagrézette").first.click()
    page.get_by_label("Bottles").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    assert "€49.80" in page.get_by_test_id("cart-summary").inner_text()
    assert journey.fits()
    journey.shot("cart")

    test_browser.fill_checkout(page)
    assert journey.fits()
    journey.shot("checkout")
    page.get_by_role("button", name=re.compile("Place order")).click()
    assert page.url.startswith(sandbox.base_url)
    journey.shot("stripe-checkout")
    page.get_by_role("button", name="Pay").click()

    # The webhook lands just after the redirect: the page refreshes itself until it has.
    page.get_by_test_id("payment-received").wait_for(timeout=30_000)
    assert journey.fits()
    journey.shot("paid")
    page.get_by_test_id("order-link").click()
    assert page.get_by_test_id("order-status").inner_text() == "Status: Paid"
    assert journey.fits()
    journey.shot("order-page")
    assert Order.objects.get().status == Order.Status.PAID


def test_merchant_journey(journey, tmp_path):
    get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    wine = WineFactory(name="Château Lagrézette", price=Decimal("24.90"), stock=6)
    order = place(lines=[(wine.pk, 2)], customer=customer(last_name="Lefèvre"))
    page = journey.page

    journey.sign_in("boss", "pw")
    journey.shot("dashboard")

    journey.go("/admin/orders/order/?q=lefevre")
    assert page.get_by_role("link", name=order.number).first.is_visible()
    journey.shot("orders-found-without-accents")
    page.get_by_role("link", name=order.number).first.click()
    page.wait_for_url(f"**/admin/orders/order/{order.pk}/change/**")
    assert page.get_by_text(order.number).first.is_visible()
    journey.shot("order")

    update = tmp_path / f"prices-{journey.viewport}.csv"
    update.write_text(
        "SKU,Name,Producer,Vintage,Category,Country,Region,Price,Stock,Description,Available\n"
        f"{wine.sku},{wine.name},{wine.producer},{wine.vintage},{wine.category.name},"
        f"{wine.country.name},,26.50,12,,yes\n",
        encoding="utf-8-sig",
    )
    journey.go("/admin/shop/wine/import/")
    page.set_input_files("input[type=file]", str(update))
    page.get_by_role("button", name="Submit").click()
    page.wait_for_selector("#import-counts")
    changes = page.locator('[data-field="price"]').first.inner_text()
    assert "24.90" in changes and "26.50" in changes
    journey.shot("import-preview")


def test_operator_journey(journey, settings):
    settings.FLOWER_PUBLIC_URL = "https://flower.wine-shop.test/"
    get_user_model().objects.create_superuser("ops", "ops@example.com", "pw")
    setup_schedule()
    page = journey.page

    journey.sign_in("ops", "pw")
    journey.go("/admin/django_celery_beat/periodictask/")
    assert page.get_by_text("Expire unpaid orders").first.is_visible()
    journey.shot("scheduled-jobs")

    flower = page.locator('a[href="https://flower.wine-shop.test/"]')
    assert flower.count() >= 1
