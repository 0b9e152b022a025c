"""The customer's path in Debian's Chromium, driven by Playwright."""

import os
import shutil
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connections

from backoffice.tests.workers import Worker, wait_for
from orders.models import Order
from payments.tests.sandbox import running_sandbox
from shop.tests.factories import WineFactory

CHROMIUM = shutil.which("chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # CI installs Chromium and must run these; elsewhere they skip without it.
    pytest.mark.skipif(
        CHROMIUM is None and not os.environ.get("CI"), reason="Debian's chromium is not installed"
    ),
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


def add_to_cart(page, name: str, bottles: int) -> None:
    page.get_by_role("link", name=name).click()
    page.get_by_label("Bottles").fill(str(bottles))
    page.get_by_role("button", name="Add to cart").click()


def fill_checkout(page) -> None:
    page.get_by_role("link", name="Checkout").click()
    page.get_by_label("First name").fill("Camille")
    page.get_by_label("Last name").fill("Rodríguez")
    page.get_by_label("Email").fill("camille@example.com")
    page.get_by_label("Address").fill("12 rue des Vignes")
    page.get_by_label("Postal code").fill("33000")
    page.get_by_label("City").fill("Bordeaux")
    page.get_by_label("Phone").fill("05 56 00 00 00")
    page.get_by_label("Click & collect").check()
    page.get_by_label("I confirm I am").check()


@pytest.fixture
def sandbox(live_server, settings):
    """The local Stripe stand-in, delivering its events to the live server's webhook."""
    with running_sandbox(settings, webhook_url=f"{live_server.url}/payment/webhook/") as server:
        yield server


@pytest.mark.worker
def test_customer_buys_two_wines_and_pays_on_the_checkout_page(
    live_server, page, sandbox, real_broker, mail_dir, admin_user
):
    lagrezette = WineFactory(name="Château Lagrézette", price=Decimal("24.90"), stock=6)
    WineFactory(name="Barolo Monfalletto", price=Decimal("48.00"), stock=3)
    worker = Worker(mail_dir)
    try:
        page.goto(live_server.url + "/")
        assert page.get_by_test_id("cart-summary").inner_text().strip() == "Your cart is empty"
        add_to_cart(page, "Château Lagrézette", 2)
        page.goto(live_server.url + "/")
        add_to_cart(page, "Barolo Monfalletto", 1)
        summary = page.get_by_test_id("cart-summary").inner_text()
        assert "3 bottles" in summary and "97.80" in summary

        fill_checkout(page)
        page.get_by_role("button", name="Place order").click()
        assert page.url.startswith(sandbox.base_url)  # Stripe's hosted page, here the sandbox
        page.get_by_role("button", name="Pay").click()
        assert page.get_by_role("heading", name="Thank you, Camille").is_visible()
        assert page.get_by_test_id("cart-summary").inner_text().strip() == "Your cart is empty"

        order = Order.objects.get()
        wait_for(
            lambda: Order.objects.get(pk=order.pk).status == Order.Status.PAID,
            timeout=30,
            what="the webhook to mark the order paid",
        )
        wait_for(
            lambda: (
                not order.emails.filter(sent_at__isnull=True).exists() and order.emails.count() == 1
            ),
            timeout=60,
            what="the order confirmation and receipt",
        )
    finally:
        worker.stop()
    subjects = sorted(
        line
        for m in mail_dir.glob("*.log")
        for line in m.read_text().splitlines()
        if line.startswith("Subject:")
    )
    assert subjects == [f"Subject: Order {order.number} confirmed and paid"]
    assert order.total == Decimal("97.80")
    lagrezette.refresh_from_db()
    assert lagrezette.stock == 4

    # The merchant sees the order paid in the admin.
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill(admin_user.username)
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    assert page.get_by_text("Paid", exact=True).first.is_visible()
    folder = settings.VAR_DIR / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "admin-order-paid.png"), full_page=True)
