"""Rendered catalog pages kept in the shared cache.

Every page is stored with the catalog version it was rendered at; any change to wines, stock or
the catalog's categories, countries and regions stores a new version once its transaction
commits, so every process on every host stops serving the old pages at once.

While the cache is away pages are rendered for each request. Changes made meanwhile could not
store a new version, and a cache that comes back may still hold the pages of before: so a process
that saw the cache go away stores a new version once it answers again.
"""

import hashlib

from django.conf import settings
from django.utils import translation

from core.cache import CacheVersion
from core.cache import tolerant_cache as cache

VERSION = CacheVersion("catalog:version")


def catalog_version() -> str:
    return VERSION.current()


def catalog_changed() -> None:
    """Retire every cached catalog page once the current transaction commits."""
    VERSION.replace_on_commit()


def shown_stock(wine, stock: int):
    """Return what catalog pages say of a wine at that stock: sold out, the count when low (see
    Wine.low_stock), or in stock. A sale that leaves it unchanged leaves the pages valid."""
    if stock <= 0:
        return "sold out"
    return stock if stock <= wine.low_stock_threshold else "in stock"


def cached_page(name: str, key: str, render) -> str:
    """Return the cached rendering of a catalog page in the active language, rendering and
    storing it on a miss.

    A page is stored with the version it was rendered at and read in the same round trip as the
    current version; a page of an older version counts as a miss.
    """
    # Pages speak the visitor's language: each language has its own.
    key = f"{translation.get_language()}|{key}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    page_key = f"catalog:{name}:{digest}"
    found = cache.get_many([VERSION.key, page_key])
    version = VERSION.current(found.get(VERSION.key))
    entry = found.get(page_key)
    if entry is not None and entry[0] == version:
        return entry[1]
    html = render()
    cache.set(page_key, (version, html), timeout=settings.CATALOG_CACHE_TIMEOUT)
    return html
