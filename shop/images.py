"""Wine photos: an upload checked and turned into the sizes the shop shows, before anything is
stored.

Uploads come from staff, but a photo is still untrusted bytes: it must be a real image in a
format we read, within a byte and a pixel budget (a few kilobytes of PNG can declare billions of
pixels), and it is re-encoded from its pixels, so no EXIF (GPS position, camera serial) or
trailing payload reaches the public.
"""

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from PIL import Image, ImageOps, UnidentifiedImageError

from shop.exceptions import WineImageInvalid

# Pillow's names for the formats accepted (MPO: the multi-picture JPEG many phones write).
FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}
# The largest box each size fits in: the catalog card (twice its CSS size, for dense screens)
# and the wine's page.
SIZES = {"card": (480, 480), "detail": (1200, 1200)}
WEBP_QUALITY = 82


@dataclass(frozen=True)
class Rendition:
    """One size of a photo, encoded as WebP, named by its content."""

    data: bytes
    width: int
    height: int

    @property
    def name(self) -> str:
        digest = hashlib.sha256(self.data).hexdigest()[:24]
        return f"wines/{digest}-{self.width}x{self.height}.webp"


@dataclass(frozen=True)
class WinePhoto:
    card: Rendition
    detail: Rendition


def _limits_error(width: int, height: int) -> WineImageInvalid:
    return WineImageInvalid(
        f"The image is {width:,} × {height:,} pixels; photos may have up to "
        f"{settings.WINE_IMAGE_MAX_PIXELS:,} pixels. Resize it and upload it again."
    )


def _encode(image: Image.Image, box: tuple[int, int]) -> Rendition:
    copy = image.copy()
    copy.thumbnail(box, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # No exif= argument: the metadata of the upload is not carried over.
    copy.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
    return Rendition(out.getvalue(), copy.width, copy.height)


def photo_render(upload) -> WinePhoto:
    """Return the card and detail sizes of an uploaded photo, or raise WineImageInvalid."""
    size = getattr(upload, "size", None)
    if size is not None and size > settings.WINE_IMAGE_MAX_BYTES:
        raise WineImageInvalid(
            f"The file is {filesizeformat(size)}; photos may be up to "
            f"{filesizeformat(settings.WINE_IMAGE_MAX_BYTES)}."
        )
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(settings.WINE_IMAGE_MAX_BYTES + 1)
    if len(data) > settings.WINE_IMAGE_MAX_BYTES:
        raise WineImageInvalid(
            f"Photos may be up to {filesizeformat(settings.WINE_IMAGE_MAX_BYTES)}."
        )
    not_an_image = WineImageInvalid(
        "This file is not a photo we can read: upload a JPEG, PNG or WebP image."
    )
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice that; refuse there too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in FORMATS:
                    raise not_an_image
                # The header's size, checked before a single pixel is decoded.
                if image.width * image.height > settings.WINE_IMAGE_MAX_PIXELS:
                    raise _limits_error(image.width, image.height)
                # JPEG decodes at a reduced scale when the largest size allows it.
                image.draft("RGB", SIZES["detail"])
                upright = ImageOps.exif_transpose(image)
                upright = upright.convert("RGBA" if _has_alpha(upright) else "RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise WineImageInvalid(
            f"This image declares too many pixels; photos may have up to "
            f"{settings.WINE_IMAGE_MAX_PIXELS:,}."
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        # Truncated or corrupt files fail while decoding, after the header was read.
        raise not_an_image from None
    return WinePhoto(card=_encode(upright, SIZES["card"]), detail=_encode(upright, SIZES["detail"]))


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
