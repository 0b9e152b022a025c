from django.db.models.signals import post_delete, post_save

from coupons.models import Coupon
from shop.catalog_cache import cart_pages_changed, catalog_changed
from shop.delivery.models import ShippingRate, ShippingZone, ZoneArea
from shop.delivery.selectors import delivery_zones_changed
from shop.models import Category, Country, Region, Wine, wine_search_text_refresh


def _catalog_changed(**kwargs):
    catalog_changed()


def _zones_changed(**kwargs):
    delivery_zones_changed()
    cart_pages_changed()


def _coupon_changed(**kwargs):
    cart_pages_changed()


def _renamed(instance, created, **kwargs):
    # A wine is searched by its region's, country's and category's names as well as its own.
    if not created:
        wine_search_text_refresh(instance.wines.all())


def connect() -> None:
    for model in (Category, Country, Region, Wine):
        post_save.connect(_catalog_changed, sender=model, dispatch_uid=f"catalog-save-{model}")
        post_delete.connect(_catalog_changed, sender=model, dispatch_uid=f"catalog-del-{model}")
    for model in (Category, Country, Region):
        post_save.connect(_renamed, sender=model, dispatch_uid=f"catalog-rename-{model}")
    for model in (ShippingZone, ZoneArea, ShippingRate):
        post_save.connect(_zones_changed, sender=model, dispatch_uid=f"zones-save-{model}")
        post_delete.connect(_zones_changed, sender=model, dispatch_uid=f"zones-del-{model}")
    # A coupon edited or deleted; its uses are counted where orders move stock (orders.services).
    post_save.connect(_coupon_changed, sender=Coupon, dispatch_uid="cart-coupon-save")
    post_delete.connect(_coupon_changed, sender=Coupon, dispatch_uid="cart-coupon-del")
