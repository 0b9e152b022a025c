from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest

from shop.models import Wine

# Everything a merchant edits on a wine, but stock: stock moves by adjustments (see wine_save).
_EDITABLE_FIELDS = [
    f.name
    for f in Wine._meta.concrete_fields
    if not f.primary_key and f.name not in {"stock", "created"}
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
