"""Rendered catalog pages kept in the shared cache.

Every page is stored with the catalog version it was rendered at; any change to wines, stock or
the catalog's categories, countries and regions stores a new version once its transaction
commits, so every process on every host stops serving the old pages at once.

While the cache is away pages are rendered for each request. Changes made meanwhile could not
store a new version, and a cache that comes back may still hold the pages of before: so a process
that saw the cache go away stores a new version once it answers again.
"""

import hashlib
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import translation

from core.cache import cache_outages
from core.cache import tolerant_cache as cache

VERSION_KEY = "catalog:version"
# The outages of the cache this process has retired the catalog's pages after.
_retired_after = 0


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
    transaction.on_commit(_retire_pages)


def _retire_pages() -> bool:
    return cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def _retire_pages_after_outage() -> None:
    global _retired_after
    outages = cache_outages()
    if outages != _retired_after and _retire_pages():
        _retired_after = outages


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
    _retire_pages_after_outage()
    # Pages speak the visitor's language: each language has its own.
    key = f"{translation.get_language()}|{key}"
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
