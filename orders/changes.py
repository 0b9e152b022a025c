"""The orders' version: a token replaced once any change to orders, their lines or refunds
commits, so that figures computed from them (the admin dashboard's) can be cached under it and
stay exact.

Saves and deletes replace it through post_save and post_delete (connected in OrdersConfig.ready);
the querysets of these models replace it on update(), bulk_create() and bulk_update(), which
send no signal, and migrations (whose models are not these) replace it once they have run. Code
writing their rows in SQL calls orders_changed() itself.
"""

from django.db import models
from django.db.models.signals import post_delete, post_migrate, post_save

from core.cache import CacheVersion

VERSION = CacheVersion("orders:version")


def orders_version() -> str:
    return VERSION.current()


def orders_changed() -> None:
    """Replace the orders' version once the current transaction commits."""
    VERSION.replace_on_commit()


class ChangingQuerySet(models.QuerySet):
    """Writes of many rows at once, which replace the orders' version as saves do."""

    def update(self, **kwargs):
        updated = super().update(**kwargs)
        orders_changed()
        return updated

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        orders_changed()
        return created

    def bulk_update(self, objs, *args, **kwargs):
        updated = super().bulk_update(objs, *args, **kwargs)
        orders_changed()
        return updated


def _changed(**kwargs) -> None:
    orders_changed()


def _migrated(**kwargs) -> None:
    VERSION.replace()


def connect(app_config) -> None:
    from orders.models import Order, OrderItem, Refund, RefundLine

    post_migrate.connect(_migrated, sender=app_config, dispatch_uid="orders-migrated")
    for model in (Order, OrderItem, Refund, RefundLine):
        post_save.connect(_changed, sender=model, dispatch_uid=f"orders-save-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"orders-del-{model.__name__}")
