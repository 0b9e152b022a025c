"""The customer's order after Stripe's page, in Debian's Chromium on a 390 px phone."""

from decimal import Decimal

import pytest

from coupons.tests.factories import CouponFactory
from orders.models import Order
from orders.tests.factories import pay
from payments.tests.sandbox import running_sandbox
from shop.models import Wine
from shop.tests import test_browser
from shop.tests.factories import WineFactory

# Debian's Chromium, driven as the shop's other browser tests drive it, against the live server.
pytestmark = test_browser.pytestmark
page = test_browser.page
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def shots(tmp_path):
    folder = tmp_path / "order-page-screenshots"
    folder.mkdir()
    print(f"\nScreenshots in {folder}")
    return folder


def place_order(page, live_server) -> None:
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Château Lagrézette").click()
    page.get_by_label("Bottles").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    page.goto(live_server.url + "/cart/")
    page.get_by_label("Coupon code").fill("AUTUMN")
    page.get_by_role("button", name="Apply").click()
    page.get_by_role("link", name="Checkout").click()
    for label, value in [
        ("First name", "Camille"),
        ("Last name", "Rodríguez"),
        ("Email", "camille@example.com"),
        ("Address", "12 rue des Vignes"),
        ("Postal code", "33000"),
        ("City", "Bordeaux"),
        ("Phone", "05 56 00 00 00"),
    ]:
        page.get_by_label(label).fill(value)
    page.get_by_label("Click & collect").check()
    page.get_by_label("I confirm I am").check()
    page.get_by_role("button", name="Place order").click()


def fits(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_after_a_declined_card_and_cancel_the_customer_finds_and_changes_the_order(
    live_server, page, settings, shots
):
    WineFactory(name="Château Lagrézette", price=Decimal("24.90"), stock=6)
    CouponFactory(code="AUTUMN", percent_off=10)
    webhook = f"{live_server.url}/payment/webhook/"
    with running_sandbox(settings, webhook_url=webhook) as sandbox:
        place_order(page, live_server)
        assert page.url.startswith(sandbox.base_url)
        page.get_by_role("button", name="Decline").click()
        assert page.get_by_role("alert").inner_text() == "Your card was declined."
        page.get_by_role("button", name="Cancel").click()
        assert sandbox.webhooks.wait(timeout=10)

        assert page.get_by_role("heading", name="Payment canceled").is_visible()
        page.screenshot(path=str(shots / "1-payment-canceled.png"), full_page=True)
        for name in ("Pay now", "See your order"):
            assert page.get_by_role("link", name=name).is_visible()
        assert page.get_by_role("button", name="Change my order").is_visible()
        assert fits(page)

        page.get_by_role("link", name="See your order").click()
        order = Order.objects.get()
        assert page.get_by_role("heading", name=f"Order {order.number}").is_visible()
        summary = page.get_by_test_id("order-summary").inner_text()
        assert "Coupon AUTUMN" in summary and "−€4.98" in summary and "44.82" in summary
        timeline = page.get_by_test_id("timeline").inner_text()
        assert "Order placed" in timeline and "A card payment was declined" in timeline
        assert fits(page)
        page.get_by_text("Cancel my order").click()  # opens the confirmation
        page.screenshot(path=str(shots / "2-order-page.png"), full_page=True)

        page.get_by_role("button", name="Change my order").click()
        assert page.get_by_role("heading", name="Your cart").is_visible()
        assert "back in your cart" in page.get_by_text("is canceled and its wines").inner_text()
        assert "44.82" in page.get_by_test_id("cart-total").inner_text()
        page.screenshot(path=str(shots / "3-back-in-the-cart.png"), full_page=True)

        page.goto(f"{live_server.url}/orders/order/{order.number}:tampered/")
        assert page.get_by_role("heading", name="This link to an order is not valid").is_visible()
        page.get_by_label("Your email address").fill("camille@example.com")
        page.get_by_label("Order number").fill(order.number)
        page.screenshot(path=str(shots / "4-link-not-valid.png"), full_page=True)
        assert fits(page)
        page.get_by_role("button", name="Email me a new link").click()
        assert page.get_by_test_id("order-link-sent").is_visible()
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELED
    assert Wine.objects.get().stock == 6


def test_the_completed_page_updates_itself_once_the_payment_lands(
    live_server, page, settings, shots
):
    WineFactory(name="Château Lagrézette", price=Decimal("24.90"), stock=6)
    CouponFactory(code="AUTUMN", percent_off=10)
    with running_sandbox(settings):  # no webhook: the payment lands when the test says
        place_order(page, live_server)
        page.get_by_role("button", name="Pay").click()
        assert page.get_by_test_id("payment-confirming").is_visible()
        page.screenshot(path=str(shots / "4-confirming.png"), full_page=True)
        page.wait_for_url("**/?n=1", timeout=10_000)  # reloaded by itself

        pay(Order.objects.get())

        page.wait_for_selector("[data-testid=payment-received]", timeout=10_000)
        assert "44.82" in page.get_by_test_id("order-summary").inner_text()
        page.screenshot(path=str(shots / "5-paid.png"), full_page=True)
        assert fits(page)
