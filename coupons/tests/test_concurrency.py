"""Coupon limits under concurrent checkouts, on PostgreSQL with real connections."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from coupons.exceptions import CouponNotValid
from coupons.models import Coupon, CouponRedemption
from coupons.tests.factories import CouponFactory
from orders.models import Order
from orders.services import order_expire
from orders.tests.factories import CHECKOUT_FIELDS, customer, france_zone, place
from orders.tests.test_concurrency import run_together
from shop.models import Wine
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_fifty_concurrent_checkouts_use_a_ten_use_coupon_exactly_ten_times(postgres_only):
    # A wine each, so that only the coupon's row is shared by the fifty transactions.
    wines = [WineFactory(price="20.00", stock=5) for _ in range(50)]
    coupon = CouponFactory(code="TENONLY", percent_off=25, max_uses=10)
    clients = []
    for i, wine in enumerate(wines):
        client = Client()
        client.post(reverse("shop:cart_add", args=[wine.pk]), {"quantity": 2})
        client.post(reverse("shop:coupon_apply"), {"code": "tenonly"}, REMOTE_ADDR=f"10.0.0.{i}")
        assert client.session["coupon"] == "TENONLY"
        clients.append(client)

    def checkout(i):
        return clients[i].post(
            reverse("orders:checkout"),
            {**CHECKOUT_FIELDS, "email": f"c{i}@example.com", "expected_total": "30.00"},
        )

    responses = run_together(50, checkout)

    assert all(not isinstance(r, Exception) for r in responses), responses
    assert {r.status_code for r in responses} <= {200, 302}  # never a 500
    placed = [r for r in responses if r.status_code == 302 and r.url.startswith("/payment/")]
    # Refused: back to the cart (the use was taken meanwhile), or the checkout page showing the
    # full price once the coupon was used up before the page was posted.
    refused = [r for r in responses if r.status_code == 200 or r.url == reverse("shop:cart_detail")]
    assert (len(placed), len(refused)) == (10, 40)
    orders = Order.objects.all()
    assert orders.count() == 10
    assert {(o.coupon_code, o.discount, o.total) for o in orders} == {
        ("TENONLY", Decimal("10.00"), Decimal("30.00"))
    }
    coupon.refresh_from_db()
    assert coupon.uses == 10
    assert CouponRedemption.objects.count() == 10
    # Refused orders reserved nothing: 10 wines down to 3 bottles, 40 untouched.
    assert sorted(Wine.objects.values_list("stock", flat=True)) == [3] * 10 + [5] * 40
    for i, response in enumerate(responses):
        if response in refused and response.status_code == 200:  # said on the checkout page
            assert "reached its usage limit" in response.content.decode()
        elif response in refused:
            page = clients[i].get(reverse("shop:cart_detail"))
            notes = [str(m) for m in page.context["messages"]]
            assert any("reached its usage limit" in n for n in notes), notes


def test_concurrent_expiry_and_cancel_give_a_use_back_once(postgres_only):
    from orders.services import order_cancel

    wine = WineFactory(stock=10)
    CouponFactory(code="BACK", max_uses=1)
    order = place(lines=[(wine.pk, 1)], customer=customer(), coupon_code="BACK")

    results = run_together(
        2,
        lambda i: (order_expire if i == 0 else order_cancel)(order_id=order.pk),
    )

    assert sum(isinstance(r, Order) for r in results) == 1, results
    assert Coupon.objects.get().uses == 0
    with pytest.raises(CouponNotValid):  # still one use in all: a second order can't take two
        place(lines=[(wine.pk, 1)], customer=customer(), coupon_code="BACK")
        place(lines=[(wine.pk, 1)], customer=customer(), coupon_code="BACK")
    assert Coupon.objects.get().uses == 1


def test_a_use_taken_while_the_admin_saves_a_coupon_is_kept(postgres_only, django_user_model):
    # A checkout takes a use and holds its transaction open; the merchant's save, which read
    # the coupon before that use was committed, waits on the row and then writes after it.
    wine = WineFactory(stock=10)
    france_zone()  # made before the checkout's thread needs it
    coupon = CouponFactory(code="EDITED", percent_off=10, max_uses=5)
    admin = Client()
    admin.force_login(django_user_model.objects.create_superuser("boss", "b@example.com", "pw"))
    redeemed, release = threading.Event(), threading.Event()

    def checkout():
        try:
            with transaction.atomic():
                place(lines=[(wine.pk, 1)], customer=customer(), coupon_code="EDITED")
                redeemed.set()
                release.wait(timeout=20)
        finally:
            connection.close()

    def save():
        try:
            return admin.post(
                reverse("admin:coupons_coupon_change", args=[coupon.pk]),
                {
                    "code": "EDITED",
                    "percent_off": "15",
                    "valid_from_0": "2026-01-01",
                    "valid_from_1": "00:00:00",
                    "max_uses": "5",
                    "active": "on",
                    "redemptions-TOTAL_FORMS": "0",
                    "redemptions-INITIAL_FORMS": "0",
                },
            )
        finally:
            connection.close()

    buyer = threading.Thread(target=checkout)
    buyer.start()
    assert redeemed.wait(timeout=20)
    with ThreadPoolExecutor(1) as pool:
        saved = pool.submit(save)
        waiting = 0
        for _ in range(200):  # until the merchant's save waits on the coupon's row
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                waiting = cursor.fetchone()[0]
            if waiting or saved.done():
                break
            time.sleep(0.05)
        release.set()
        buyer.join(timeout=20)
        response = saved.result(timeout=20)
    assert waiting, "the save never met the checkout's open transaction"
    assert response.status_code == 302
    coupon.refresh_from_db()
    assert (coupon.percent_off, coupon.uses) == (15, 1)
    assert CouponRedemption.objects.count() == 1
