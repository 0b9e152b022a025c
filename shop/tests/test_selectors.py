import pytest
from django.http import QueryDict

from shop.selectors import (
    SEARCH_MAX_LENGTH,
    WineFilters,
    catalog_facets,
    wine_get,
    wine_list,
    wine_list_low_stock,
)
from shop.tests.factories import CategoryFactory, CountryFactory, RegionFactory, WineFactory

pytestmark = pytest.mark.django_db


def test_filters_keep_only_the_filters_of_a_query_trimmed_and_without_nul():
    query = QueryDict("q=++rio%00ja++&category=red&utm_source=mail&page=2&region=")
    filters = WineFilters.from_query(query)
    assert filters == WineFilters(category="red", q="rioja")
    assert filters.as_query() == {"category": "red", "q": "rioja"}
    long = WineFilters.from_query({"q": "x" * (SEARCH_MAX_LENGTH + 50), "country": ["fr"]})
    assert (len(long.q), long.country) == (SEARCH_MAX_LENGTH, "")


def test_wine_list_filters_by_slug_and_searches_name_and_producer(django_assert_num_queries):
    bordeaux = RegionFactory(name="Bordeaux", slug="bordeaux")
    red = CategoryFactory(name="Red")
    WineFactory(name="Margaux", producer="Alpha", region=bordeaux, category=red)
    WineFactory(name="Pauillac", producer="Beta", region=bordeaux, category=red)
    WineFactory(name="Chablis", producer="Alpha")
    WineFactory(name="Withdrawn", producer="Alpha", region=bordeaux, available=False)

    def names(**filters):
        with django_assert_num_queries(1):
            return [wine.name for wine in wine_list(filters=WineFilters(**filters))]

    assert names() == ["Chablis", "Margaux", "Pauillac"]
    assert names(region="bordeaux") == ["Margaux", "Pauillac"]
    assert names(q="ALPHA") == ["Chablis", "Margaux"]
    assert names(q="alpha", category="red", country=bordeaux.country.slug) == ["Margaux"]


def test_facets_name_the_filters_whose_value_is_unknown():
    RegionFactory(slug="rioja", country=CountryFactory(slug="spain"))
    CategoryFactory(name="Red")
    facets = catalog_facets()
    assert facets.unknown(WineFilters(category="red", country="spain", region="rioja")) == []
    assert facets.unknown(WineFilters(category="rose", country="narnia")) == ["category", "country"]


def test_wine_get_finds_only_wines_on_sale():
    on_sale = WineFactory(slug="on-sale")
    WineFactory(slug="withdrawn", available=False)
    assert wine_get(slug="on-sale") == on_sale
    assert wine_get(slug="withdrawn") is None
    assert wine_get(slug="missing") is None


def test_low_stock_lists_wines_on_sale_at_or_below_their_threshold_lowest_first():
    WineFactory(name="Two left", stock=2, low_stock_threshold=6)
    WineFactory(name="At threshold", stock=6, low_stock_threshold=6)
    WineFactory(name="Plenty", stock=50, low_stock_threshold=6)
    WineFactory(name="Withdrawn", stock=0, available=False)
    assert [wine.name for wine in wine_list_low_stock()] == ["Two left", "At threshold"]
