import pytest
from django.core.management import call_command

from core.storage import media_storage
from shop.models import Wine
from shop.tests.factories import WineFactory, photo_bytes

pytestmark = pytest.mark.django_db


def test_photos_on_disk_move_to_the_database_once(tmp_path, settings, capsys):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "wines").mkdir()
    (tmp_path / "wines" / "old.jpg").write_bytes(photo_bytes((1000, 1500)))
    (tmp_path / "wines" / "broken.jpg").write_bytes(b"not a photo")
    moved = WineFactory(image="wines/old.jpg")
    broken = WineFactory(image="wines/broken.jpg")
    missing = WineFactory(image="wines/gone.jpg")
    without = WineFactory()

    call_command("move_wine_images")

    out, err = capsys.readouterr()
    assert "1 photos moved, 2 left as they were." in out
    assert broken.sku in err and missing.sku in err
    moved.refresh_from_db()
    assert moved.image.name.startswith("wines/") and moved.image.name.endswith(".webp")
    assert (moved.thumbnail_width, moved.thumbnail_height) == (320, 480)
    assert media_storage().exists(moved.thumbnail.name)
    assert Wine.objects.get(pk=broken.pk).image.name == "wines/broken.jpg"
    assert not Wine.objects.get(pk=without.pk).image
    # Again: nothing more to move, nothing changes.
    before = moved.image.name
    call_command("move_wine_images")
    assert "0 photos moved, 2 left as they were." in capsys.readouterr().out
    moved.refresh_from_db()
    assert moved.image.name == before
