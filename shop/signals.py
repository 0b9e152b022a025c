from django.db.models.signals import post_delete, post_save

from shop.catalog_cache import catalog_changed
from shop.models import Category, Country, Region, Wine


def _catalog_changed(**kwargs):
    catalog_changed()


def connect() -> None:
    for model in (Category, Country, Region, Wine):
        post_save.connect(_catalog_changed, sender=model, dispatch_uid=f"catalog-save-{model}")
        post_delete.connect(_catalog_changed, sender=model, dispatch_uid=f"catalog-del-{model}")
