from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Greatest

from core.alerts import send_staff_alert
from shop.images import WinePhoto, photo_render
from shop.models import Wine
from shop.selectors import wine_list_low_stock

# The stored photo: changed only by wine_image_set, never written back by a form's save.
_IMAGE_FIELDS = [
    "image",
    "image_width",
    "image_height",
    "thumbnail",
    "thumbnail_width",
    "thumbnail_height",
]
# Everything a merchant edits on a wine, but stock: stock moves by adjustments (see wine_save).
_EDITABLE_FIELDS = [
    f.name
    for f in Wine._meta.concrete_fields
    if not f.primary_key and f.name not in {"stock", "created", *_IMAGE_FIELDS}
]


@transaction.atomic
def wine_save(*, wine: Wine, stock_seen: int | None) -> Wine:
    """Save a validated wine; a stock edit is applied as the change from what the editor saw.

    Orders reserve stock while a merchant has the form open: writing the form's figure back would
    resell or lose those bottles, so the difference is added to the current stock instead
    (never below zero).
    """
    if wine.pk is None or stock_seen is None:
        wine.save()
        return wine
    delta = wine.stock - stock_seen
    wine.save(update_fields=_EDITABLE_FIELDS)
    if delta:
        Wine.objects.filter(pk=wine.pk).update(stock=Greatest(F("stock") + delta, Value(0)))
    wine.refresh_from_db(fields=["stock"])
    return wine


def wine_image_prepare(*, upload) -> WinePhoto:
    """Check an uploaded photo and make its sizes; raise WineImageInvalid if it is refused."""
    return photo_render(upload)


@transaction.atomic
def wine_image_set(*, wine: Wine, photo: WinePhoto | None) -> Wine:
    """Store a wine's photo (None removes it) with the wine, in one transaction.

    The files live in the database, so they commit or roll back with the wine's row. Names carry
    a hash of the content: a new photo gets new URLs, which browsers may cache for ever. Files no
    other wine shows are deleted; the save retires the cached catalog pages (shop.signals).
    """
    storage = Wine._meta.get_field("image").storage
    # The row's current photo, locked: two merchants saving photos at once delete nothing the
    # other one stored.
    current = Wine.objects.select_for_update().only("image", "thumbnail").get(pk=wine.pk)
    old = {name for name in (current.image.name, current.thumbnail.name) if name}
    if photo is None:
        wine.image = wine.thumbnail = ""
        wine.image_width = wine.image_height = None
        wine.thumbnail_width = wine.thumbnail_height = None
    else:
        names = {}
        for size, rendition in (("detail", photo.detail), ("card", photo.card)):
            # Same name, same bytes: a photo already stored (another wine's) is shared.
            if storage.exists(rendition.name):
                names[size] = rendition.name
            else:
                names[size] = storage.save(rendition.name, ContentFile(rendition.data))
        wine.image, wine.image_width, wine.image_height = (
            names["detail"],
            photo.detail.width,
            photo.detail.height,
        )
        wine.thumbnail, wine.thumbnail_width, wine.thumbnail_height = (
            names["card"],
            photo.card.width,
            photo.card.height,
        )
    wine.save(update_fields=[*_IMAGE_FIELDS, "updated"])
    in_use = Wine.objects.filter(Q(image__in=old) | Q(thumbnail__in=old)).values_list(
        "image", "thumbnail"
    )
    for name in old - {name for pair in in_use for name in pair}:
        storage.delete(name)
    return wine


def wine_low_stock_alert() -> int:
    """Tell staff which wines are running low; return how many."""
    wines = list(wine_list_low_stock())
    if wines:
        send_staff_alert(
            subject=f"{len(wines)} wines running low",
            template="emails/low_stock",
            context={"wines": wines},
        )
    return len(wines)
