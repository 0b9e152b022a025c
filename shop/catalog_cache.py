"""Rendered catalog pages kept in the shared cache.

Every page is stored with the catalog version it was rendered at; any change to wines, stock or
the catalog's categories, countries and regions stores a new version once its transaction
commits, so every process on every host stops serving the old pages at once.

Each process also keeps the pages it served last in memory, with the version they were rendered
at: a request still reads the current version from the shared cache, and is given the kept page
only when its version is that one, so a page is never older there than in the shared cache; it
saves carrying and unpickling the page on every request.

A cart page shows more than the catalog's pages do: each wine's exact stock, the coupon's uses and
dates, the delivery zones. Cart pages are kept under a version of their own, which every catalog
change replaces, and so do every stock move, coupon change and zone change.

While the cache is away pages are rendered for each request. Changes made meanwhile could not
store a new version, and a cache that comes back may still hold the pages of before: so a process
that saw the cache go away stores a new version once it answers again.
"""

import hashlib
import threading
import time

from django.conf import settings
from django.utils import translation

from core.cache import CacheVersion
from core.cache import tolerant_cache as cache

VERSION = CacheVersion("catalog:version")
CART_VERSION = CacheVersion("cart:version")


class _KeptPages:
    """This process's pages: {page key: (version, what cached_page's `prepare` made of the page)},
    the oldest dropped past CATALOG_MEMORY_PAGES."""

    def __init__(self):
        self.pages: dict = {}
        self.lock = threading.Lock()

    def get(self, key: str, version: str):
        kept = self.pages.get(key)
        return kept[1] if kept is not None and kept[0] == version else None

    def keep(self, key: str, version: str, page) -> None:
        with self.lock:
            self.pages.pop(key, None)
            while self.pages and len(self.pages) >= settings.CATALOG_MEMORY_PAGES:
                del self.pages[next(iter(self.pages))]
            if settings.CATALOG_MEMORY_PAGES > 0:
                self.pages[key] = (version, page)


_kept = _KeptPages()


def catalog_version() -> str:
    return VERSION.current()


def catalog_changed() -> None:
    """Retire every cached catalog and cart page once the current transaction commits."""
    VERSION.replace_on_commit()
    CART_VERSION.replace_on_commit()


def cart_pages_changed() -> None:
    """Retire every cached cart page once the current transaction commits: for what cart pages
    show and catalog pages don't (a sale within "in stock", a coupon's use, the zones)."""
    CART_VERSION.replace_on_commit()


def shown_stock(wine, stock: int):
    """Return what catalog pages say of a wine at that stock: sold out, the count when low (see
    Wine.low_stock), or in stock. A sale that leaves it unchanged leaves the pages valid."""
    if stock <= 0:
        return "sold out"
    return stock if stock <= wine.low_stock_threshold else "in stock"


def _page_key(name: str, key: str) -> str:
    # Pages speak the visitor's language: each language has its own.
    key = f"{translation.get_language()}|{key}"
    return f"catalog:{name}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"


def cached_page(name: str, key: str, render, *, prepare=None):
    """Return the cached rendering of a catalog page in the active language, rendering and
    storing it on a miss; with `prepare`, what it returns for the page, made once per process
    and version.

    A page is stored with the version it was rendered at; a page of an older version counts as
    a miss.
    """
    page_key = _page_key(name, key)
    version = VERSION.current()
    page = _kept.get(page_key, version)
    if page is not None:
        return page
    entry = cache.get(page_key)
    if entry is not None and entry[0] == version:
        html, kept = entry[1], True
    else:
        html = render()
        # Not kept while the cache is away: each request then has a version of its own.
        kept = cache.set(page_key, (version, html), timeout=settings.CATALOG_CACHE_TIMEOUT)
    page = prepare(html) if prepare else html
    if kept:
        _kept.keep(page_key, version, page)
    return page


def cart_page_get(key: str) -> tuple[str, object]:
    """Return the current cart version and the page kept under `key` for it (None when there is
    none, or its coupon has ended since), in one round trip to the shared cache."""
    version, entry = CART_VERSION.read(_page_key("cart", key))
    if entry is None:
        return version, None
    until, page = entry
    return version, page if until is None or time.time() < until else None


def cart_page_keep(key: str, version: str, page, *, until=None) -> None:
    """Keep a cart page for `version` (what cart_page_get returned before the cart was read from
    the database), until the datetime `until` if one is given."""
    until = until.timestamp() if until is not None else None
    CART_VERSION.store(
        _page_key("cart", key), version, (until, page), timeout=settings.CATALOG_CACHE_TIMEOUT
    )
