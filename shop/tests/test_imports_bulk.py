"""Queries in chunks and free slugs for many rows at once (shop.imports.bulk)."""

import pytest

from shop.imports import IN_CHUNK, free_slugs
from shop.models import Category

pytestmark = pytest.mark.django_db


def test_free_slugs_asks_in_chunks_sqlite_accepts():
    names = [f"Name {i}" for i in range(IN_CHUNK * 2 + 5)]
    slugs = free_slugs(Category, names, max_length=120)
    assert len(set(slugs)) == len(names)
