"""The customer's path in Debian's Chromium, driven by Playwright."""

import csv
import io
import os
import shutil
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from backoffice.tests.workers import Worker, wait_for
from orders.models import Order
from payments.stripe_client import retrieve_checkout_session
from payments.tests.sandbox import running_sandbox
from reports.models import Invoice
from reports.services import report_build, report_request
from reports.tests.pdf import pdf_text, read_invoice
from shop.tests.factories import WineFactory, bands, shipping_zone

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
    live_server, page, sandbox, real_broker, mail_dir, admin_user, tmp_path
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
    # The customer's page, reloading itself while the payment was confirmed, says it arrived and
    # reloads no more: leaving it earlier races its next reload.
    page.get_by_test_id("payment-received").wait_for(timeout=15_000)

    # The merchant sees the order paid in the admin.
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill(admin_user.username)
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    assert page.get_by_text("Paid", exact=True).first.is_visible()
    folder = tmp_path / "screenshots"
    folder.mkdir()
    print(f"screenshots: {folder}")
    page.screenshot(path=str(folder / "admin-order-paid.png"), full_page=True)


@pytest.mark.worker
def test_delivery_to_germany_chosen_in_the_cart_is_charged_the_same_everywhere(
    live_server, page, sandbox, real_broker, mail_dir, tmp_path
):
    """Choose Germany in the cart, confirm the age at checkout and pay: the order, Stripe's
    session, the invoice and the day's sales report carry the same delivery and VAT."""
    WineFactory(name="Riesling Kabinett", price=Decimal("18.50"), stock=12)
    shipping_zone("European Union", areas=[("DE", "", "")], bands=bands("24.90", "34.90", "49.90"))
    worker = Worker(mail_dir)
    try:
        page.goto(live_server.url + "/")
        add_to_cart(page, "Riesling Kabinett", 3)
        page.get_by_test_id("cart-summary").click()
        page.get_by_label("Country to deliver to").select_option("DE")
        page.get_by_role("button", name="Update delivery").click()
        delivery_line = page.get_by_test_id("delivery-line").inner_text()
        assert "Germany" in delivery_line and "€24.90" in delivery_line
        assert "€80.40" in page.get_by_test_id("cart-summary").inner_text()  # 55.50 + 24.90
        folder = tmp_path / "screenshots"
        folder.mkdir()
        print(f"screenshots: {folder}")
        page.screenshot(path=str(folder / "cart-delivery-germany.png"), full_page=True)

        page.get_by_role("link", name="Checkout").click()
        assert page.get_by_label("Country").input_value() == "DE"
        page.get_by_label("First name").fill("Jürgen")
        page.get_by_label("Last name").fill("Müller")
        page.get_by_label("Email").fill("juergen@example.com")
        page.get_by_label("Phone").fill("+49 30 1234567")
        page.get_by_label("Address").fill("Friedrichstraße 12")
        page.get_by_label("Postal code").fill("10117")
        page.get_by_label("City").fill("Berlin")
        # Refused without the age confirmed, whatever the browser does.
        page.get_by_role("button", name="Place order").click()
        assert page.get_by_text("Please confirm you are old enough to buy wine.").is_visible()
        assert not Order.objects.exists()
        page.get_by_label("I confirm I am at least 18 years old").check()
        page.get_by_role("button", name="Place order · €80.40").click()
        assert page.url.startswith(sandbox.base_url)
        page.get_by_role("button", name="Pay").click()
        assert page.get_by_role("heading", name="Thank you, Jürgen").is_visible()

        order = Order.objects.get()
        wait_for(
            lambda: Invoice.objects.filter(order=order).exclude(file="").exists(),
            timeout=60,
            what="the webhook to mark the order paid and the worker to issue its invoice",
        )
    finally:
        worker.stop()
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert (order.country, order.delivery_charge, order.vat_rate) == (
        "DE",
        Decimal("24.90"),
        Decimal("0.19"),
    )
    assert order.total == Decimal("80.40") and order.age_confirmed_at is not None

    session = retrieve_checkout_session(order.stripe_session_id)
    assert session.amount_total == 8040
    assert session.shipping_cost.amount_total == 2490

    invoice = pdf_text(read_invoice(Invoice.objects.get(order=order)))
    assert "Germany" in invoice and "Delivery to Germany" in invoice and "€24.90" in invoice
    # VAT at 19 %: 55.50 of wine contains 8.86, 24.90 of delivery 3.98.
    assert "VAT 19 % on wine" in invoice and "€8.86" in invoice
    assert "VAT 19 % on delivery" in invoice and "€3.98" in invoice

    report = report_build(
        report_id=report_request(kind="day", start=timezone.localdate(), queue=False).pk
    )
    with report.csv.open("rb") as handle:
        rows = list(csv.reader(io.StringIO(handle.read().decode("utf-8-sig"))))
    assert rows_named(rows, "delivery income") == ["revenue", "delivery income", "", "", "24.90"]
    assert rows_named(rows, "Germany 19 %")[:8] == [
        "vat", "Germany 19 %", "1", "", "80.40", "", "12.84", "67.56"
    ]  # fmt: skip
    with report.pdf.open("rb") as handle:
        sales = pdf_text(handle.read())
    assert "Delivery income" in sales and "€24.90" in sales and "Germany" in sales


def rows_named(rows: list[list[str]], name: str) -> list[str]:
    """Return the first CSV row whose second cell is name, without its empty tail."""
    row = next(row for row in rows if len(row) > 1 and row[1] == name)
    while row and row[-1] == "":
        row = row[:-1]
    return row
