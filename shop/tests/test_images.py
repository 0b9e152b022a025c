import io

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from shop.exceptions import WineImageInvalid
from shop.images import SIZES, photo_render
from shop.tests.factories import photo_bytes, png_header


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_a_photo_gets_a_card_and_a_detail_size_in_webp():
    photo = photo_render(ContentFile(photo_bytes((3000, 2000))))

    assert (photo.card.width, photo.card.height) == (480, 320)
    assert (photo.detail.width, photo.detail.height) == (1200, 800)
    for rendition in (photo.card, photo.detail):
        image = opened(rendition.data)
        assert image.format == "WEBP"
        assert image.size == (rendition.width, rendition.height)


def test_small_photos_are_not_enlarged():
    photo = photo_render(ContentFile(photo_bytes((300, 400), fmt="PNG")))

    assert (photo.card.width, photo.card.height) == (300, 400)
    assert (photo.detail.width, photo.detail.height) == (300, 400)


def test_names_carry_a_hash_of_the_content():
    red = photo_render(ContentFile(photo_bytes(color=(150, 0, 0))))
    again = photo_render(ContentFile(photo_bytes(color=(150, 0, 0))))
    green = photo_render(ContentFile(photo_bytes(color=(0, 150, 0))))

    assert red.card.name == again.card.name
    assert red.card.name != green.card.name
    assert red.card.name != red.detail.name
    assert red.card.name.startswith("wines/") and red.card.name.endswith("-320x480.webp")


def test_exif_orientation_is_applied_and_the_metadata_dropped():
    # Orientation 6: the camera was turned; the stored pixels lie on their side.
    photo = photo_render(ContentFile(photo_bytes((1200, 800), orientation=6)))

    card = opened(photo.card.data)
    assert card.size == (320, 480)  # upright: taller than wide
    # The white quarter was top-left in the file; turned 90° clockwise it is top-right.
    assert card.getpixel((card.width - 10, 10))[0] > 240
    assert card.getpixel((10, 10))[0] < 200
    assert not card.getexif()


def test_a_photo_with_transparency_keeps_it():
    image = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")

    card = opened(photo_render(ContentFile(out.getvalue())).card.data)

    assert card.mode == "RGBA" and card.getpixel((5, 5))[3] == 0


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7 not a photo",
        b"",
        photo_bytes()[:400],  # truncated
        photo_bytes(fmt="GIF"),
        b"<svg xmlns='http://www.w3.org/2000/svg'></svg>",
    ],
    ids=["pdf", "empty", "truncated", "gif", "svg"],
)
def test_what_is_not_a_photo_we_read_is_refused(data):
    with pytest.raises(WineImageInvalid, match="not a photo we can read"):
        photo_render(ContentFile(data))


def test_a_decompression_bomb_is_refused_before_decoding(settings):
    settings.WINE_IMAGE_MAX_PIXELS = 40_000_000
    # 50 million pixels declared by a file of a few dozen bytes.
    with pytest.raises(WineImageInvalid, match="10,000 × 5,000 pixels"):
        photo_render(ContentFile(png_header(10_000, 5_000)))
    # Beyond Pillow's own limit, it refuses to open the file at all.
    with pytest.raises(WineImageInvalid, match="too many pixels"):
        photo_render(ContentFile(png_header(100_000, 100_000)))


def test_the_pixel_limit_is_a_setting(settings):
    settings.WINE_IMAGE_MAX_PIXELS = 1_000

    with pytest.raises(WineImageInvalid, match="up to 1,000 pixels"):
        photo_render(ContentFile(photo_bytes((40, 30))))


def test_a_file_over_the_byte_limit_is_refused(settings):
    settings.WINE_IMAGE_MAX_BYTES = 1_000
    data = photo_bytes((600, 600), fmt="PNG") + b"\x00" * 2_000

    with pytest.raises(WineImageInvalid, match="up to 1000"):
        photo_render(ContentFile(data))
    # A stream that does not say its size is cut at the limit.
    with pytest.raises(WineImageInvalid, match="up to 1000"):
        photo_render(io.BytesIO(data))


def test_sizes_fit_the_catalog_card_and_the_wine_page():
    assert SIZES == {"card": (480, 480), "detail": (1200, 1200)}
