from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile

from core.models import StoredFile
from core.storage import media_storage, private_storage
from orders.tests.factories import customer, place
from shop.catalog_cache import VERSION, catalog_version
from shop.models import Wine
from shop.services import wine_image_prepare, wine_image_set, wine_save
from shop.tests.factories import WineFactory, photo_bytes

pytestmark = pytest.mark.django_db

CUSTOMER = customer()


def prepared(**kwargs):
    return wine_image_prepare(upload=ContentFile(photo_bytes(**kwargs)))


def test_a_photo_is_stored_in_public_media_under_content_hashed_names(
    django_capture_on_commit_callbacks,
):
    wine = WineFactory()
    photo = prepared(size=(1600, 2400))

    wine_image_set(wine=wine, photo=photo)

    wine = Wine.objects.get(pk=wine.pk)
    assert wine.image.name == photo.detail.name and wine.thumbnail.name == photo.card.name
    assert (wine.image_width, wine.image_height) == (800, 1200)
    assert (wine.thumbnail_width, wine.thumbnail_height) == (320, 480)
    assert media_storage().open(wine.thumbnail.name).read() == photo.card.data
    assert wine.thumbnail.url == f"/media/{photo.card.name}"
    # The public prefix keeps them apart from private files of the same table.
    assert set(StoredFile.objects.values_list("name", flat=True)) == {
        f"public/{photo.detail.name}",
        f"public/{photo.card.name}",
    }
    assert not private_storage().exists(photo.card.name)


def test_a_new_photo_gets_new_names_and_the_old_files_go(django_capture_on_commit_callbacks):
    wine = WineFactory()
    first, second = prepared(color=(10, 10, 10)), prepared(color=(200, 10, 10))
    wine_image_set(wine=wine, photo=first)

    wine_image_set(wine=wine, photo=second)

    assert wine.thumbnail.name != first.card.name
    assert not media_storage().exists(first.card.name)
    assert not media_storage().exists(first.detail.name)
    assert StoredFile.objects.count() == 2


def test_a_photo_two_wines_share_is_stored_once_and_kept_while_one_shows_it():
    one, two = WineFactory(), WineFactory()
    photo = prepared()
    wine_image_set(wine=one, photo=photo)
    wine_image_set(wine=two, photo=photo)
    assert StoredFile.objects.count() == 2

    wine_image_set(wine=one, photo=None)

    assert not Wine.objects.get(pk=one.pk).image
    assert media_storage().exists(photo.card.name)  # still the other wine's
    wine_image_set(wine=two, photo=None)
    assert StoredFile.objects.count() == 0


def test_a_photo_retires_the_cached_catalog_pages(django_capture_on_commit_callbacks):
    wine = WineFactory()
    before = catalog_version()

    with django_capture_on_commit_callbacks(execute=True):
        wine_image_set(wine=wine, photo=prepared())

    assert cache.get(VERSION.key) != before


def test_other_edits_never_write_the_photo_back():
    wine = WineFactory()
    stale = Wine.objects.get(pk=wine.pk)
    wine_image_set(wine=wine, photo=prepared())

    stale.name = "Renamed"
    wine_save(wine=stale, stock_seen=stale.stock)

    wine.refresh_from_db()
    assert wine.name == "Renamed" and wine.thumbnail


def _editor_copy(wine) -> Wine:
    """Return the wine as the admin form loaded it."""
    return Wine.objects.get(pk=wine.pk)


def test_stock_edit_applies_as_change_from_what_editor_saw():
    wine = WineFactory(stock=10)
    editing = _editor_copy(wine)
    place(lines=[(wine.pk, 3)], customer=CUSTOMER)  # while the form was open

    editing.stock = 12
    wine_save(wine=editing, stock_seen=10)

    wine.refresh_from_db()
    assert wine.stock == editing.stock == 9


def test_stock_edit_never_goes_below_zero():
    wine = WineFactory(stock=10)
    editing = _editor_copy(wine)
    place(lines=[(wine.pk, 8)], customer=CUSTOMER)

    editing.stock = 5
    wine_save(wine=editing, stock_seen=10)

    wine.refresh_from_db()
    assert wine.stock == 0


def test_edit_without_stock_change_keeps_bottles_sold_meanwhile():
    wine = WineFactory(stock=10, price=Decimal("12.50"))
    editing = _editor_copy(wine)
    place(lines=[(wine.pk, 3)], customer=CUSTOMER)

    editing.price = Decimal("14.00")
    wine_save(wine=editing, stock_seen=10)

    wine.refresh_from_db()
    assert (wine.stock, wine.price) == (7, Decimal("14.00"))
