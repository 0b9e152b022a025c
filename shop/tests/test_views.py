from decimal import Decimal

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from coupons.tests.factories import CouponFactory
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db


def test_list_detail_cart_render(client):
    wine = WineFactory(name="Château Lagrézette")
    response = client.get(reverse("shop:wine_list"))
    assert response.status_code == 200
    assert "Château Lagrézette" in response.content.decode()
    assert "Your cart is empty" in response.content.decode()
    response = client.get(wine.get_absolute_url())
    assert response.status_code == 200
    response = client.post(reverse("shop:cart_add", args=[wine.pk]), {"quantity": 2}, follow=True)
    assert response.status_code == 200
    assert "2 bottles" in response.content.decode()


def test_unknown_pages_answer_404_with_the_shop_layout(client, settings):
    settings.DEBUG = False
    response = client.get("/wine/no-such-wine/")
    assert response.status_code == 404
    assert "We couldn't find that page" in response.content.decode()
    assert "Your cart is empty" in response.content.decode()


def test_csrf_failure_is_a_clear_403():
    from django.test import Client

    wine = WineFactory()
    response = Client(enforce_csrf_checks=True).post(
        reverse("shop:cart_add", args=[wine.pk]), {"quantity": 1}
    )
    assert response.status_code == 403
    assert "Please try again" in response.content.decode()


def _with_photo(wine):
    from django.core.files.base import ContentFile

    from shop.services import wine_image_prepare, wine_image_set
    from shop.tests.factories import photo_bytes

    photo = wine_image_prepare(upload=ContentFile(photo_bytes((1200, 1800))))
    return wine_image_set(wine=wine, photo=photo)


def test_catalog_cards_show_the_thumbnail_lazily_or_a_placeholder(client):
    shown = _with_photo(WineFactory(name="Barolo Monfalletto"))
    WineFactory(name="Without a photo")

    page = client.get(reverse("shop:wine_list")).content.decode()

    assert (
        f'<img class="wine-thumb" src="/media/{shown.thumbnail.name}" width="320" height="480" '
        'alt="Bottle of Barolo Monfalletto" loading="lazy" decoding="async">'
    ) in page
    assert page.count('class="wine-thumb placeholder"') == 1
    assert client.get(f"/media/{shown.thumbnail.name}").status_code == 200


def test_wine_page_shows_the_detail_size_or_a_placeholder(client):
    shown = _with_photo(WineFactory(name="Barolo Monfalletto", vintage=2019))
    bare = WineFactory()

    page = client.get(shown.get_absolute_url()).content.decode()

    assert f'src="/media/{shown.image.name}" width="800" height="1200"' in page
    assert 'alt="Bottle of Barolo Monfalletto 2019, Domaine Test"' in page
    assert 'class="wine-image placeholder"' in client.get(bare.get_absolute_url()).content.decode()


def test_a_new_photo_shows_on_the_cached_catalog_at_once(
    client, django_capture_on_commit_callbacks
):
    wine = WineFactory(name="Barolo Monfalletto")
    assert "wine-thumb placeholder" in client.get(reverse("shop:wine_list")).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        _with_photo(wine)

    page = client.get(reverse("shop:wine_list")).content.decode()
    assert f'src="/media/{wine.thumbnail.name}"' in page
    assert "wine-thumb placeholder" not in page


@pytest.fixture
def cart(client):
    wine = WineFactory(price="9.99", stock=10)
    client.post(reverse("shop:cart_add", args=[wine.pk]), {"quantity": 3})
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_coupon_form_posts_where_it_always_has():
    # A cart page kept by a browser from before still posts to these paths.
    assert reverse("shop:coupon_apply") == "/coupons/apply/"
    assert reverse("shop:coupon_remove") == "/coupons/remove/"


def test_applied_coupon_shows_its_discount_in_the_cart_and_the_header(cart):
    CouponFactory(code="THIRD", percent_off=33)

    response = cart.post(reverse("shop:coupon_apply"), {"code": " third "}, follow=True)

    assert "Coupon THIRD applied: 33 % off." in _messages(response)
    page = response.content.decode()
    assert "Coupon THIRD (33 % off)" in page and "−9.89 €" in page
    assert response.context["cart"].total == Decimal("20.08")
    assert page.count("20.08 €") >= 2  # the header's cart total and the cart's total
    assert 'action="/coupons/remove/"' in page


@pytest.mark.parametrize("code", ["NOPE", "x" * 41, ""])
def test_bad_codes_get_a_message_and_change_nothing(cart, code):
    response = cart.post(reverse("shop:coupon_apply"), {"code": code}, follow=True)
    assert response.status_code == 200
    assert response.context["cart"].coupon is None
    assert "coupon" not in cart.session
    assert _messages(response)
    assert 'action="/coupons/apply/"' in response.content.decode()


def test_apply_and_remove_accept_only_post(client):
    assert client.get(reverse("shop:coupon_apply")).status_code == 405
    assert client.get(reverse("shop:coupon_remove")).status_code == 405


def test_removing_the_coupon_restores_the_full_price(cart):
    CouponFactory(code="TEN")
    cart.post(reverse("shop:coupon_apply"), {"code": "TEN"})
    response = cart.post(reverse("shop:coupon_remove"), follow=True)
    assert response.context["cart"].total == Decimal("29.97")
    assert "The coupon was removed." in _messages(response)


def assert_refused(response) -> None:
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many coupon codes tried" in response.content.decode()


def test_guessing_is_cut_off_per_session(cart, settings):
    settings.COUPON_ATTEMPTS_PER_SESSION = 3
    CouponFactory(code="REAL")
    for guess in ["AAAA", "BBBB", "CCCC"]:
        cart.post(reverse("shop:coupon_apply"), {"code": guess})

    assert_refused(cart.post(reverse("shop:coupon_apply"), {"code": "REAL"}))
    assert "coupon" not in cart.session


def test_guessing_is_cut_off_per_address_across_sessions(client, settings, django_user_model):
    settings.COUPON_ATTEMPTS_PER_ADDRESS = 4
    CouponFactory(code="REAL")
    for guess in range(4):
        client.cookies.clear()  # a fresh session each time
        client.post(reverse("shop:coupon_apply"), {"code": f"GUESS{guess}"})
    client.cookies.clear()

    assert_refused(client.post(reverse("shop:coupon_apply"), {"code": "REAL"}))


def test_the_client_address_behind_a_proxy_counts(cart, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    settings.COUPON_ATTEMPTS_PER_ADDRESS = 2
    settings.COUPON_ATTEMPTS_PER_SESSION = 100
    CouponFactory(code="REAL")
    for guess in ["A1", "A2"]:
        cart.post(reverse("shop:coupon_apply"), {"code": guess}, HTTP_X_FORWARDED_FOR="203.0.113.9")
    other = cart.post(
        reverse("shop:coupon_apply"), {"code": "REAL"}, HTTP_X_FORWARDED_FOR="198.51.100.7"
    )
    assert other.status_code == 302
    assert "coupon" in cart.session  # another client behind the same proxy is not blocked


def test_guessing_from_many_addresses_trips_the_global_breaker(client, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    settings.COUPON_FAILURES_GLOBAL = 5
    CouponFactory(code="REAL")
    for n in range(5):
        client.cookies.clear()
        client.post(
            reverse("shop:coupon_apply"), {"code": f"G{n}"}, HTTP_X_FORWARDED_FOR=f"10.0.{n}.1"
        )

    # A fresh address with a good code: no code is checked for anyone until the window ends.
    response = client.post(
        reverse("shop:coupon_apply"), {"code": "REAL"}, HTTP_X_FORWARDED_FOR="198.51.100.7"
    )
    assert_refused(response)


def test_addresses_of_one_ipv6_64_share_their_counter(client, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    settings.COUPON_ATTEMPTS_PER_ADDRESS = 3
    CouponFactory(code="REAL")
    for n in range(3):
        client.cookies.clear()
        address = f"2001:db8:1:2::{n + 1:x}"  # one subscriber's /64, a new address each time
        client.post(reverse("shop:coupon_apply"), {"code": f"G{n}"}, HTTP_X_FORWARDED_FOR=address)

    same_64 = client.post(
        reverse("shop:coupon_apply"), {"code": "REAL"}, HTTP_X_FORWARDED_FOR="2001:db8:1:2:ffff::9"
    )
    assert_refused(same_64)
    other_64 = client.post(
        reverse("shop:coupon_apply"), {"code": "REAL"}, HTTP_X_FORWARDED_FOR="2001:db8:1:3::1"
    )
    assert other_64.status_code == 302


def test_tries_without_a_cookie_create_no_session_and_are_counted_by_address(client, settings):
    settings.COUPON_ATTEMPTS_PER_ADDRESS = 3
    settings.COUPON_ATTEMPTS_PER_SESSION = 100
    CouponFactory(code="REAL")
    for n in range(3):
        client.cookies.clear()
        response = client.post(reverse("shop:coupon_apply"), {"code": f"G{n}"})
        assert response.status_code == 302
        assert "sessionid" not in response.cookies
    client.cookies.clear()
    # An invented session cookie gives no counter of its own either.
    client.cookies["sessionid"] = "x" * 32

    response = client.post(reverse("shop:coupon_apply"), {"code": "REAL"})
    assert_refused(response)
    assert "sessionid" not in response.cookies or not response.cookies["sessionid"].value
    assert not Session.objects.exists()
