"""Rendered catalog pages kept in the shared cache.

Every key carries the catalog version; any change to wines, stock or the catalog's categories,
countries and regions stores a new version once its transaction commits, so every process on
every host stops serving the old pages at once.
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


def cached_page(name: str, key: str, render) -> str:
    """Return the cached rendering of a catalog page, rendering and storing it on a miss."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"catalog:{catalog_version()}:{name}:{digest}"
    html = cache.get(cache_key)
    if html is None:
        html = render()
        cache.set(cache_key, html, timeout=settings.CATALOG_CACHE_TIMEOUT)
    return html
