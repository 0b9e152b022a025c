"""Rendered catalog pages kept in the shared cache.

Every page is stored with the catalog version it was rendered at; any change to wines, stock or
the catalog's categories, countries and regions stores a new version once its transaction
commits, so every process on every host stops serving the old pages at once.
"""

import hashlib
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "catalog:version"


def catalog_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        # add() so that two processes starting together agree on one version.
        if not cache.add(VERSION_KEY, version, timeout=None):
            version = cache.get(VERSION_KEY, version)
    return version


def catalog_changed() -> None:
    """Retire every cached catalog page once the current transaction commits."""
    transaction.on_commit(lambda: cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None))


def shown_stock(wine, stock: int):
    """Return what catalog pages say of a wine at that stock: sold out, the count when low (see
    Wine.low_stock), or in stock. A sale that leaves it unchanged leaves the pages valid."""
    if stock <= 0:
        return "sold out"
    return stock if stock <= wine.low_stock_threshold else "in stock"


def cached_page(name: str, key: str, render) -> str:
    """Return the cached rendering of a catalog page, rendering and storing it on a miss.

    A page is stored with the version it was rendered at and read in the same round trip as the
    current version; a page of an older version counts as a miss.
    """
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    page_key = f"catalog:{name}:{digest}"
    found = cache.get_many([VERSION_KEY, page_key])
    version = found.get(VERSION_KEY) or catalog_version()
    entry = found.get(page_key)
    if entry is not None and entry[0] == version:
        return entry[1]
    html = render()
    cache.set(page_key, (version, html), timeout=settings.CATALOG_CACHE_TIMEOUT)
    return html
