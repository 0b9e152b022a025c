"""The coupon batch page in Debian's Chromium: it follows the codes being drawn, and stops
reloading once the merchant edits it."""

import pytest
from django.urls import reverse
from django.utils import timezone

from coupons.models import CouponBatch
from shop.tests.test_browser import CHROMIUM, page  # noqa: F401 - the Chromium page fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]


def sign_in(page, live_server, user) -> None:  # noqa: F811
    page.goto(f"{live_server.url}{reverse('admin:login')}")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}{reverse('admin:index')}")


def test_the_batch_page_reloads_while_codes_are_drawn_until_the_merchant_edits_it(
    live_server,
    page,  # noqa: F811
    admin_user,
    tmp_path,
):
    batch = CouponBatch.objects.create(
        name="Spring",
        count=500,
        code_length=10,
        alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ23456789",
        percent_off=10,
        valid_from=timezone.now(),
        status=CouponBatch.Status.RUNNING,
        generated=120,
    )
    sign_in(page, live_server, admin_user)
    page.goto(f"{live_server.url}{reverse('admin:coupons_couponbatch_change', args=[batch.pk])}")
    assert page.get_by_text("120 / 500").is_visible()
    CouponBatch.objects.filter(pk=batch.pk).update(generated=360)
    page.wait_for_event("load", timeout=10_000)  # the page reloads by itself...
    assert page.get_by_text("360 / 500").is_visible()  # ...and shows the progress

    page.evaluate("window.notReloaded = true")
    page.get_by_label("Name").fill("Spring newsletter")
    page.wait_for_timeout(4_500)  # longer than the 3 seconds between reloads
    assert page.evaluate("window.notReloaded") is True
    assert page.get_by_label("Name").input_value() == "Spring newsletter"
    assert "paused while you edit" in page.locator("#batch-refresh").inner_text()
    page.screenshot(path=tmp_path / "batch-paused.png", full_page=True)
    print(f"screenshots in {tmp_path}")
