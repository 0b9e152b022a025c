from decimal import Decimal

import pytest
from django.db.models import Count, F, Q
from django.http import QueryDict

from core.search import fold, fold_search
from shop.models import Wine, WineGroup, wine_search_text_refresh
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

    def unknown(**filters):
        return catalog_facets(filters=WineFilters(**filters)).unknown

    assert unknown(category="red", country="spain", region="rioja") == []
    assert unknown(category="rose", country="narnia") == ["category", "country"]


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


@pytest.fixture
def cellar():
    """Make wines of two French regions and an Italian one, red and rosé, one sold out."""
    red, rose = CategoryFactory(name="Red"), CategoryFactory(name="Rosé")
    france = CountryFactory(name="France", slug="france")
    bordeaux = RegionFactory(country=france, name="Bordeaux", slug="bordeaux")
    provence = RegionFactory(country=france, name="Provence", slug="provence")
    tuscany = RegionFactory(country=CountryFactory(name="Italy", slug="italy"), slug="toscana")
    wines = [
        # name, producer, category, region, price, vintage, stock
        ("Château Margaux", "Famille Lefèvre", red, bordeaux, "90.00", 2015, 12),
        ("Pauillac Réserve", "Domaine Test", red, bordeaux, "40.00", 2020, 0),
        ("Miraval", "Domaine Test", rose, provence, "18.00", None, 12),
        ("Brunello Riserva", "Domaine Test", red, tuscany, "15.00", 2019, 12),
    ]
    for name, producer, category, region, price, vintage, stock in wines:
        WineFactory(
            name=name,
            producer=producer,
            category=category,
            region=region,
            price=Decimal(price),
            vintage=vintage,
            stock=stock,
        )


def names(**filters) -> list[str]:
    return [wine.name for wine in wine_list(filters=WineFilters(**filters))]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("chateau", ["Château Margaux"]),
        ("CHÂTEAU margaux", ["Château Margaux"]),
        ("lefevre", ["Château Margaux"]),  # the producer
        ("bordeaux", ["Château Margaux", "Pauillac Réserve"]),  # the region
        ("italy", ["Brunello Riserva"]),  # the country
        ("rose", ["Miraval"]),  # the category
        ("reserve bordeaux", ["Pauillac Réserve"]),  # every word, each anywhere
        ("reserve provence", []),
        ("lefevrebordeaux", []),  # no word across two fields
    ],
)
def test_search_ignores_accents_and_case_in_names_producers_places_and_categories(
    cellar, q, expected
):
    # The same rows on PostgreSQL and SQLite: run with DATABASE_URL set to see both.
    assert names(q=q) == expected


def test_search_finds_wines_without_a_region_by_their_other_fields(cellar):
    WineFactory(name="Vin de France Rouge", region=None, country=CountryFactory(name="France"))
    assert names(q="vin rouge france") == ["Vin de France Rouge"]
    assert names(q="rouge bordeaux") == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["Brunello Riserva", "Château Margaux", "Miraval", "Pauillac Réserve"]),
        ("price", ["Brunello Riserva", "Miraval", "Pauillac Réserve", "Château Margaux"]),
        ("price-desc", ["Château Margaux", "Pauillac Réserve", "Miraval", "Brunello Riserva"]),
        # Non-vintage wines last, both ways.
        ("newest", ["Pauillac Réserve", "Brunello Riserva", "Château Margaux", "Miraval"]),
        ("oldest", ["Château Margaux", "Brunello Riserva", "Pauillac Réserve", "Miraval"]),
    ],
)
def test_wine_list_sorts_by_name_price_or_vintage(cellar, sort, expected):
    assert names(sort=sort) == expected


def test_filters_keep_a_known_sort_other_than_the_default_and_hide_sold_out_only_for_1():
    parse = WineFilters.from_query
    assert parse(QueryDict("sort=price-desc")).sort == "price-desc"
    assert parse(QueryDict("sort=name")) == parse(QueryDict("sort=DROP+TABLE")) == WineFilters()
    assert parse(QueryDict("in_stock=1")).in_stock is True
    assert parse(QueryDict("in_stock=yes")).in_stock is False
    both = parse(QueryDict("in_stock=1&sort=newest&q=rioja"))
    assert both.as_query() == {"q": "rioja", "sort": "newest", "in_stock": "1"}
    assert len({WineFilters().as_key(), both.as_key(), parse(QueryDict("q=rioja")).as_key()}) == 3


def test_hide_sold_out_lists_wines_in_stock_only(cellar):
    assert "Pauillac Réserve" not in names(in_stock=True)
    assert len(names(in_stock=True)) == 3


def options(facet) -> dict[str, int]:
    return {option.slug: option.count for option in facet}


def test_each_option_counts_the_wines_of_the_other_filters_and_none_is_empty(
    cellar, django_assert_num_queries
):
    with django_assert_num_queries(4):
        facets = catalog_facets(filters=WineFilters(category="red"))
    assert options(facets.categories) == {"red": 3, "rose": 1}
    assert options(facets.countries) == {"france": 2, "italy": 1}
    assert options(facets.regions) == {"bordeaux": 2, "toscana": 1}  # no red of Provence
    assert [option.group for option in facets.regions] == ["France", "Italy"]
    assert (facets.total, facets.in_stock) == (3, 2)

    facets = catalog_facets(filters=WineFilters(country="italy", in_stock=True))
    assert options(facets.categories) == {"red": 1}
    assert options(facets.countries) == {"france": 2, "italy": 1}
    assert options(facets.regions) == {"toscana": 1}
    assert (facets.total, facets.in_stock) == (1, 1)

    facets = catalog_facets(filters=WineFilters(q="chateau"))
    assert options(facets.countries) == {"france": 1}
    assert facets.total == 1


def test_a_chosen_region_counts_in_every_facet_but_the_countries(cellar):
    facets = catalog_facets(filters=WineFilters(region="bordeaux"))
    assert options(facets.categories) == {"red": 2}
    # Choosing another country drops the region: the countries are counted without it.
    assert options(facets.countries) == {"france": 3, "italy": 1}
    assert options(facets.regions) == {"bordeaux": 2, "provence": 1, "toscana": 1}
    assert [option.slug for option in facets.regions if option.selected] == ["bordeaux"]


def test_a_region_of_another_country_is_dropped_and_named(cellar):
    facets = catalog_facets(filters=WineFilters(country="italy", region="bordeaux"))
    assert facets.filters == WineFilters(country="italy")
    assert facets.dropped_region.name == "Bordeaux"
    assert facets.chosen_country.name == "Italy"
    assert options(facets.regions) == {"toscana": 1}
    assert facets.total == 1

    kept = catalog_facets(filters=WineFilters(country="france", region="bordeaux"))
    assert (kept.filters.region, kept.dropped_region, kept.total) == ("bordeaux", None, 2)


def test_an_option_chosen_by_hand_is_kept_even_without_wines(cellar):
    facets = catalog_facets(filters=WineFilters(category="rose", country="italy"))
    assert options(facets.categories) == {"red": 1, "rose": 0}
    assert facets.total == 0


SEARCHED_WINES = [
    ("Château Lefèvre", "Domaine Œillet", "Côtes-du-Rhône", "France", "Rouge"),
    ("Chateau Margaux", "Weißburgunder & Co", "Bordeaux", "France", "Red"),
    ("Grüner Veltliner", "Weingut Bründlmayer", "", "Österreich", "Weiß"),
    ("Pago 100% Ñandú", "Bodega Sorì", "Rioja", "España", "Tinto"),
]


def _searched_wines():
    for name, producer, region, country, category in SEARCHED_WINES:
        country = CountryFactory(name=country)
        WineFactory(
            name=name,
            producer=producer,
            country=country,
            region=RegionFactory(name=region, country=country) if region else None,
            category=CategoryFactory(name=category),
        )


@pytest.mark.parametrize(
    "q",
    [
        "chateau",
        "LEFÈVRE",
        "cotes rhone",
        "oeillet",
        "weiss",
        "ÖSTERREICH gruner",
        "100%",
        "_",
        "nandu sori",
        "france red",
        "rouge margaux",
        "e\nl",
        "lefevre domaine",
        "veltliner rioja",
    ],
)
def test_the_stored_searchable_text_finds_what_folding_each_field_finds(q):
    _searched_wines()
    by_fields = fold_search(
        Wine.objects.all(),
        ["name", "producer", "region__name", "country__name", "category__name"],
        q,
    )
    expected = sorted(by_fields.values_list("name", flat=True))

    found = [wine.name for wine in wine_list(filters=WineFilters(q=q))]

    assert sorted(found) == expected


def test_bulk_refresh_stores_the_text_save_stores():
    _searched_wines()
    saved = dict(Wine.objects.values_list("pk", "search_text"))
    Wine.objects.update(search_text="")

    wine_search_text_refresh(Wine.objects.all())

    assert dict(Wine.objects.values_list("pk", "search_text")) == saved
    assert "chateau lefevre\ndomaine oeillet\ncotes-du-rhone\nfrance\nrouge" in saved.values()


@pytest.mark.parametrize("model", ["region", "country", "category"])
def test_a_renamed_region_country_or_category_finds_its_wines_by_the_new_name(model):
    wine = WineFactory(name="Clos Rename")
    place = getattr(wine, model)
    old = place.name
    place.name = "Terres Nouvelles Éloignées"
    place.save()

    assert [w.name for w in wine_list(filters=WineFilters(q="eloignees"))] == ["Clos Rename"]
    assert fold(old) not in Wine.objects.get().search_text


def test_a_wine_saved_with_some_fields_keeps_its_searchable_text():
    wine = WineFactory(name="Clos Avant")
    wine.name = "Clos Après"
    wine.save(update_fields=["name"])
    wine.stock = 3
    wine.save(update_fields=["stock"])

    assert Wine.objects.get().search_text.startswith("clos apres\n")


def counted_groups() -> set[tuple]:
    """Return the groups of wines on sale counted from the wines themselves."""
    rows = (
        Wine.objects.filter(available=True)
        .order_by()
        .values_list("category", "country", "region")
        .annotate(wines=Count("pk"), in_stock=Count("pk", filter=Q(stock__gt=0)))
    )
    return {(c, country, region or 0, w, s) for c, country, region, w, s in rows}


def kept_groups() -> set[tuple]:
    return set(
        WineGroup.objects.filter(Q(wines__gt=0) | Q(in_stock__gt=0)).values_list(
            "category", "country", "region", "wines", "in_stock"
        )
    )


def test_the_kept_filter_counts_follow_every_kind_of_write():
    france = CountryFactory()
    loire = RegionFactory(country=france)
    red, white = CategoryFactory(), CategoryFactory()
    wines = [WineFactory(category=red, region=loire, stock=n % 3) for n in range(6)]
    WineFactory(category=white, country=france, region=None, stock=2)
    assert kept_groups() == counted_groups() and len(kept_groups()) == 2

    wines[0].stock = 0  # out of stock by a save
    wines[0].save()
    Wine.objects.filter(pk=wines[1].pk).update(stock=F("stock") + 5)  # as orders move stock
    Wine.objects.filter(pk__in=[w.pk for w in wines[2:4]]).update(category=white)  # many rows
    wines[4].available = False
    wines[4].save()
    wines[5].delete()
    Wine.objects.bulk_create(
        [
            Wine(
                sku=f"B{n}",
                name="Bulk",
                slug=f"bulk-{n}",
                producer="P",
                price=1,
                stock=n,
                category=red,
                country=france,
                region=None,
            )
            for n in range(3)
        ]
    )
    Wine.objects.filter(sku="B1").update(region=loire)

    assert kept_groups() == counted_groups()
    assert (
        catalog_facets(filters=WineFilters()).total == Wine.objects.filter(available=True).count()
    )


def test_facets_without_a_search_read_the_kept_counts_whatever_the_size(
    django_assert_num_queries,
):
    WineFactory.create_batch(40)
    with django_assert_num_queries(4):
        facets = catalog_facets(filters=WineFilters())
    assert facets.total == 40 and sum(option.count for option in facets.categories) == 40
