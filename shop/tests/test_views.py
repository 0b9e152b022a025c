import pytest
from django.urls import reverse

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
