"""The catalog's cached pages: a process's own copies never outlive the shared cache's version;
while the shared cache is away pages are rendered for each request, nothing a customer does is
lost, and caching resumes once Redis is back. Cart pages kept in the cache are exact after every
change that shows on them."""

import pickle
import re
import socket
import threading
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.cache.backends.filebased import FileBasedCache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backoffice.tests.redis_server import use_cache_url
from core import file_watch
from core.tests.waiting import until
from coupons.tests.factories import CouponFactory
from orders.models import Order
from orders.tests.factories import CHECKOUT_FIELDS
from shop import catalog_cache
from shop.catalog_cache import VERSION
from shop.models import Wine
from shop.tests.factories import WineFactory, delivery_zones
from shop.tests.pages import flash_messages, shared_part

pytestmark = pytest.mark.django_db


def wine_page(wine) -> str:
    response = Client().get(wine.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_a_page_kept_in_a_process_gives_way_to_a_version_another_process_stored(
    django_assert_num_queries,
):
    wine = WineFactory(price=Decimal("12.50"))
    assert "€12.50" in wine_page(wine)
    # Changed behind the catalog's back: only a new version can retire the page.
    Wine.objects.filter(pk=wine.pk).update(price=Decimal("15.00"))
    with django_assert_num_queries(0):
        assert "€12.50" in wine_page(wine)

    VERSION.replace()  # as another process does once its change commits

    page = wine_page(wine)
    assert "€15.00" in page and "€12.50" not in page


# --- With Redis telling each process of every new version (core.version_watch) ------------------


def test_a_catalog_page_shown_again_asks_redis_nothing(redis_server, settle_version_watch):
    WineFactory(name="Clos des Copies")
    browser, redis = Client(), redis_server.client()
    assert "Clos des Copies" in browser.get("/").content.decode()
    settle_version_watch()
    browser.get("/")  # reads the catalog's version, stored by the first
    before = redis.info("commandstats")
    assert "Clos des Copies" in browser.get("/").content.decode()
    after = redis.info("commandstats")
    asked = {
        name: calls
        for name, stats in after.items()
        if (calls := stats["calls"] - before.get(name, {}).get("calls", 0))
    }
    assert asked == {"cmdstat_info": 1}  # the one that counts


def test_a_page_shows_a_change_another_process_committed_a_moment_later(
    redis_server, settle_version_watch
):
    wine = WineFactory(price=Decimal("12.50"))
    assert "€12.50" in wine_page(wine)
    settle_version_watch()
    assert "€12.50" in wine_page(wine)  # from this process's memory, under its copy
    # Another process's price change: its row, then, once it commits, its new version.
    Wine.objects.filter(pk=wine.pk).update(price=Decimal("15.00"))
    redis_server.client().set(cache.make_key(VERSION.key), pickle.dumps("after-the-change"))
    until(lambda: "€15.00" in wine_page(wine), seconds=1, what="the new price")


@pytest.mark.skipif(not file_watch.available(), reason="Linux's inotify only")
def test_on_the_file_cache_a_page_shown_again_opens_no_file_and_shows_a_change_at_once(
    file_cache, file_cache_reads
):
    wine = WineFactory(price=Decimal("12.50"))
    assert "€12.50" in wine_page(wine)
    assert "€12.50" in wine_page(wine)  # the version read once more, and kept
    file_cache_reads.clear()
    assert "€12.50" in wine_page(wine)
    assert file_cache_reads == []
    # Another process's price change: its row, then, once it commits, its new version.
    Wine.objects.filter(pk=wine.pk).update(price=Decimal("15.00"))
    FileBasedCache(str(file_cache), {}).set(VERSION.key, "after-the-change", None)
    assert "€15.00" in wine_page(wine)  # the next page, with no wait


def test_a_page_kept_in_a_process_is_not_served_once_the_shared_cache_lost_its_version():
    wine = WineFactory(price=Decimal("12.50"))
    assert "€12.50" in wine_page(wine)
    Wine.objects.filter(pk=wine.pk).update(price=Decimal("15.00"))

    cache.clear()  # Redis restarted empty, or dropped the version key

    page = wine_page(wine)
    assert "€15.00" in page and "€12.50" not in page


def test_a_process_keeps_at_most_its_number_of_pages_and_serves_the_rest_from_the_cache(
    settings, django_assert_num_queries
):
    settings.CATALOG_MEMORY_PAGES = 2
    wines = WineFactory.create_batch(3)
    first = [Client().get(wine.get_absolute_url()) for wine in wines]

    with django_assert_num_queries(0):
        again = [Client().get(wine.get_absolute_url()) for wine in wines]

    assert len(catalog_cache._kept.pages) == 2
    assert [shared_part(page) for page in again] == [shared_part(page) for page in first]


def test_a_customer_browses_and_buys_while_the_cache_is_away(
    redis_server, django_capture_on_commit_callbacks
):
    wine = WineFactory(
        name="Clos du Repli", price=Decimal("12.00"), stock=10, low_stock_threshold=6
    )
    customer = Client()
    assert customer.get("/").status_code == 200  # pages cached while Redis was there
    redis_server.stop()

    page = customer.get("/")
    assert page.status_code == 200
    assert "Clos du Repli" in page.content.decode()
    assert customer.get(wine.get_absolute_url()).status_code == 200
    added = customer.post(reverse("shop:cart_add", args=[wine.pk]), {"quantity": 5})
    assert added.status_code == 302
    cart = customer.get(reverse("shop:cart_detail"))
    assert cart.status_code == 200
    assert "Clos du Repli" in cart.content.decode()
    assert customer.get(reverse("orders:checkout")).status_code == 200
    # Five sold leave "Only 5 left": the sale retires the catalog's pages once it commits.
    with django_capture_on_commit_callbacks(execute=True):
        placed = customer.post(
            reverse("orders:checkout"), {**CHECKOUT_FIELDS, "expected_total": "60.00"}
        )

    assert placed.status_code == 302
    assert placed.url.startswith("/payment/process/")
    order = Order.objects.get()
    assert order.items.get().quantity == 5
    wine.refresh_from_db()
    assert wine.stock == 5
    assert "Only 5 left" in Client().get("/").content.decode()


def test_a_cart_kept_in_sessions_read_through_redis_works_while_redis_is_away(
    redis_server, settings
):
    settings.SESSION_ENGINE = "core.sessions"  # production's, with Redis as the cache
    first, second = WineFactory(stock=10), WineFactory(stock=10)
    customer = Client()
    customer.post(reverse("shop:cart_add", args=[first.pk]), {"quantity": 1})
    redis_server.stop()

    added = customer.post(reverse("shop:cart_add", args=[second.pk]), {"quantity": 2})
    page = customer.get(reverse("shop:cart_detail"))

    assert (added.status_code, page.status_code) == (302, 200)
    assert second.name in page.content.decode()
    assert customer.session["cart"] == {str(first.pk): 1, str(second.pk): 2}


def test_caching_resumes_once_the_cache_is_back(redis_server, settings, django_assert_num_queries):
    settings.CACHE_RETRY_SECONDS = 0  # tried again at once, rather than after a few seconds
    WineFactory(name="Clos du Retour")
    redis_server.stop()
    assert Client().get("/").status_code == 200

    redis_server.start()
    assert "Clos du Retour" in Client().get("/").content.decode()
    with django_assert_num_queries(0):
        page = Client().get("/")
    assert "Clos du Retour" in page.content.decode()


def test_pages_cached_before_an_outage_are_not_served_after_it(
    redis_server, settings, django_capture_on_commit_callbacks
):
    settings.CACHE_RETRY_SECONDS = 0
    wine = WineFactory(price=Decimal("12.50"))
    assert "€12.50" in Client().get("/").content.decode()
    # Redis restarts with what it held, while the price changes and can't retire the pages.
    redis_server.stop(keep_data=True)
    with django_capture_on_commit_callbacks(execute=True):
        wine.price = Decimal("15.00")
        wine.save()
    redis_server.start()

    page = Client().get("/").content.decode()
    assert "€15.00" in page
    assert "€12.50" not in page


def test_a_cache_that_never_answers_costs_one_timeout_per_interval(settings, monkeypatch):
    WineFactory(name="Clos du Silence")
    answers: list[int] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)  # the kernel accepts connections; nothing ever answers them
        use_cache_url(f"redis://127.0.0.1:{listener.getsockname()[1]}/0", settings, monkeypatch)
        # Counted are the pages' connections: the version watch's would be one more, in a thread
        # of its own that no page waits for (core/tests/test_version_watch.py).
        settings.CACHE_VERSION_WATCH = False

        def browse():
            customer = Client()
            try:
                for _ in range(5):
                    answers.append(customer.get("/").status_code)
                    answers.append(customer.get("/?page=1").status_code)
            finally:
                connection.close()

        # Bounded, so that a cache waiting forever fails the test instead of hanging it.
        thread = threading.Thread(target=browse, daemon=True)
        thread.start()
        thread.join(timeout=20)
        listener.setblocking(False)
        connections = 0
        while True:
            try:
                listener.accept()[0].close()
            except BlockingIOError:
                break
            connections += 1

    assert answers == [200] * 10
    # The first cache call waited CACHE_SOCKET_TIMEOUT; every later one was skipped.
    assert connections == 1


# --- Cart pages ------------------------------------------------------------------------------

CART = reverse("shop:cart_detail")
FR = {"HTTP_ACCEPT_LANGUAGE": "fr"}


def cart_of(wine, quantity: int, **headers) -> Client:
    """Return a visitor with quantity bottles of wine in the cart, its "Added" message seen."""
    customer = Client(**headers)
    added = customer.post(reverse("shop:cart_add", args=[wine.pk]), {"quantity": quantity})
    assert added.status_code == 302
    assert customer.get(CART).status_code == 200  # shows the message: rendered, not kept
    return customer


def shown_max(response) -> str:
    return re.search(r'name="quantity" value="\d+" min="0" max="(\d+)"', response.content.decode())[
        1
    ]


def test_the_same_cart_is_shown_from_the_cache_with_each_visitors_own_token(
    django_assert_num_queries,
):
    wine = WineFactory(name="Clos Partagé", price=Decimal("12.50"), stock=30)
    first, second, french = cart_of(wine, 2), cart_of(wine, 2), cart_of(wine, 2, **FR)
    shown = first.get(CART)

    with django_assert_num_queries(1):  # the session row
        again = second.get(CART)
    assert shared_part(again) == shared_part(shown)
    assert "Clos Partagé" in again.content.decode() and "€25.00" in again.content.decode()
    assert "Votre panier" in french.get(CART, **FR).content.decode()

    token = re.search(r'name="csrfmiddlewaretoken" value="(\w+)"', again.content.decode())[1]
    second.handler.enforce_csrf_checks = True
    update = reverse("shop:cart_update", args=[wine.pk])
    assert second.post(update, {"quantity": 3, "csrfmiddlewaretoken": token}).status_code == 302
    assert second.session["cart"] == {str(wine.pk): 3}


def test_a_sale_the_catalog_does_not_show_retires_the_cart_pages(
    django_capture_on_commit_callbacks, django_assert_num_queries
):
    wine = WineFactory(price=Decimal("10.00"), stock=40, low_stock_threshold=5)
    waiting, buyer = cart_of(wine, 2), cart_of(wine, 30)
    assert shown_max(waiting.get(CART)) == "40"
    wine_page(wine)

    with django_capture_on_commit_callbacks(execute=True):
        placed = buyer.post(
            reverse("orders:checkout"), {**CHECKOUT_FIELDS, "expected_total": "300.00"}
        )
    assert placed.status_code == 302

    with django_assert_num_queries(0):  # still "In stock": the catalog's page stays
        assert "In stock" in wine_page(wine)
    assert shown_max(waiting.get(CART)) == "10"


def test_a_price_changed_in_the_admin_retires_the_cart_pages(django_capture_on_commit_callbacks):
    wine = WineFactory(price=Decimal("10.00"), stock=40)
    customer = cart_of(wine, 2)
    assert "€20.00" in customer.get(CART).content.decode()

    wine.price = Decimal("11.00")
    with django_capture_on_commit_callbacks(execute=True):
        wine.save()

    assert "€22.00" in customer.get(CART).content.decode()


def test_a_coupon_switched_off_is_taken_out_of_a_cart_shown_before(
    django_capture_on_commit_callbacks,
):
    wine = WineFactory(price=Decimal("10.00"), stock=40)
    coupon = CouponFactory(code="AUTOMNE", percent_off=10)
    customer = cart_of(wine, 2)
    customer.post(reverse("shop:coupon_apply"), {"code": "automne"})
    assert customer.get(CART).status_code == 200  # the message
    assert "€18.00" in customer.get(CART).content.decode()

    coupon.active = False
    with django_capture_on_commit_callbacks(execute=True):
        coupon.save()

    page = customer.get(CART)
    assert "€20.00" in page.content.decode()
    assert (
        "Coupon AUTOMNE: This coupon code is not valid or has expired." in flash_messages(page)[0]
    )


def test_a_cart_page_with_a_coupon_is_not_served_from_the_cache_after_the_coupon_ends(
    monkeypatch,
):
    wine = WineFactory(price=Decimal("10.00"), stock=40)
    coupon = CouponFactory(code="MINUTE", valid_to=timezone.now() + timedelta(minutes=1))
    customer = cart_of(wine, 2)
    customer.post(reverse("shop:coupon_apply"), {"code": "minute"})
    assert customer.get(CART).status_code == 200  # the message
    assert "€18.00" in customer.get(CART).content.decode()
    with CaptureQueriesContext(connection) as before_the_end:
        customer.get(CART)

    # The cache's clock past the coupon's end: nothing changed in the database nor the version.
    ended = coupon.valid_to.timestamp() + 1
    monkeypatch.setattr(catalog_cache, "time", SimpleNamespace(time=lambda: ended))
    with CaptureQueriesContext(connection) as after_the_end:
        customer.get(CART)

    read = [query["sql"] for query in after_the_end.captured_queries]
    assert len(before_the_end) == 1  # the session row
    assert any('FROM "coupons_coupon"' in sql for sql in read)  # checked again


def test_a_delivery_zone_closed_retires_the_cart_pages(django_capture_on_commit_callbacks):
    zones = delivery_zones()
    wine = WineFactory(price=Decimal("10.00"), stock=40)
    customer = cart_of(wine, 2)
    assert "United Kingdom" in customer.get(CART).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        zones["United Kingdom"].delete()

    assert "United Kingdom" not in customer.get(CART).content.decode()


def test_cart_pages_cached_before_an_outage_are_not_served_after_it(
    redis_server, settings, django_capture_on_commit_callbacks
):
    settings.CACHE_RETRY_SECONDS = 0
    wine = WineFactory(price=Decimal("12.50"), stock=40)
    customer = cart_of(wine, 2)
    assert "€25.00" in customer.get(CART).content.decode()
    # Redis restarts with what it held, while the price changes and can't retire the pages.
    redis_server.stop(keep_data=True)
    with django_capture_on_commit_callbacks(execute=True):
        wine.price = Decimal("15.00")
        wine.save()
    redis_server.start()

    page = customer.get(CART).content.decode()
    assert "€30.00" in page
    assert "€25.00" not in page
