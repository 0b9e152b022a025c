from dataclasses import dataclass, field, replace

from django.db.models import Count, F, QuerySet

from core.search import Fold, fold_search
from shop.models import Category, Country, Region, Wine

SEARCH_MAX_LENGTH = 100
# What a search looks in: every word must be in one of them, accents and case aside.
SEARCH_FIELDS = ["name", "producer", "region__name", "country__name", "category__name"]
# The catalog's orders (?sort=): names as people read them, accents aside, whatever the database's
# collation; ties in name order, a stable order for pages. Non-vintage wines come last both ways.
BY_NAME = (Fold("name"), "name", "id")
SORTS = {
    "name": ("Name", BY_NAME),
    "price": ("Price, low to high", ("price", *BY_NAME)),
    "price-desc": ("Price, high to low", ("-price", *BY_NAME)),
    "newest": ("Vintage, newest first", (F("vintage").desc(nulls_last=True), *BY_NAME)),
    "oldest": ("Vintage, oldest first", (F("vintage").asc(nulls_last=True), *BY_NAME)),
}
DEFAULT_SORT = "name"


@dataclass(frozen=True)
class WineFilters:
    category: str = ""
    country: str = ""
    region: str = ""
    q: str = ""
    sort: str = ""  # a key of SORTS other than the default, which is ""
    in_stock: bool = False

    @classmethod
    def from_query(cls, params) -> "WineFilters":
        """Return the filters of a query string, ignoring anything that is not a filter."""

        def one(name: str, max_length: int = 120) -> str:
            value = params.get(name, "")
            if not isinstance(value, str):
                return ""
            # NUL can't be stored or searched for in PostgreSQL text.
            return value.replace("\x00", "").strip()[:max_length]

        sort = one("sort")
        return cls(
            category=one("category"),
            country=one("country"),
            region=one("region"),
            q=one("q", SEARCH_MAX_LENGTH),
            sort=sort if sort in SORTS and sort != DEFAULT_SORT else "",
            in_stock=one("in_stock") == "1",
        )

    def as_key(self) -> str:
        return repr((self.category, self.country, self.region, self.q, self.sort, self.in_stock))

    def as_query(self) -> dict[str, str]:
        """Return the filters that are set, for links: what the page shows, not what was asked."""
        query = {
            "category": self.category,
            "country": self.country,
            "region": self.region,
            "q": self.q,
            "sort": self.sort,
            "in_stock": "1" if self.in_stock else "",
        }
        return {name: value for name, value in query.items() if value}

    @property
    def narrowed(self) -> bool:
        """Whether any filter leaves wines out (the order of the list leaves none out)."""
        return bool(self.category or self.country or self.region or self.q or self.in_stock)


def wine_list(*, filters: WineFilters) -> QuerySet[Wine]:
    """Return the wines on sale that match the filters, in the order they ask for."""
    wines = Wine.objects.filter(available=True).select_related("country", "region", "category")
    if filters.category:
        wines = wines.filter(category__slug=filters.category)
    if filters.country:
        wines = wines.filter(country__slug=filters.country)
    if filters.region:
        wines = wines.filter(region__slug=filters.region)
    if filters.in_stock:
        wines = wines.filter(stock__gt=0)
    if filters.q:
        wines = fold_search(wines, SEARCH_FIELDS, filters.q)
    return wines.order_by(*SORTS[filters.sort or DEFAULT_SORT][1])


@dataclass(frozen=True)
class FacetOption:
    """A value a customer can filter by, with the number of wines they would then see."""

    slug: str
    name: str
    count: int
    selected: bool = False
    group: str = ""  # a region's country


@dataclass(frozen=True)
class CatalogFacets:
    """The choices of the catalog's filter form for the filters asked for.

    Each option counts the wines that match the other filters and the option, and only options
    with wines are offered (and the one chosen), so no choice leads to an empty page. A region
    stays with its country: choosing another country drops it, so the countries are counted
    without the region.
    """

    filters: WineFilters  # what the page applies: the filters asked for, less a stale region
    unknown: list[str] = field(default_factory=list)  # filters whose value names nothing
    categories: list[FacetOption] = field(default_factory=list)
    countries: list[FacetOption] = field(default_factory=list)
    regions: list[FacetOption] = field(default_factory=list)
    total: int = 0  # the wines that match the filters
    in_stock: int = 0  # and of those, or with "hide sold out", the wines in stock
    dropped_region: Region | None = None  # a region asked for that is not in the country

    @property
    def chosen_country(self) -> FacetOption | None:
        return next((option for option in self.countries if option.selected), None)


def _counts(filters: WineFilters, column: str) -> dict[int | None, int]:
    """Return how many wines matching filters there are per value of column, in one query."""
    # No ordering: its columns would split the groups.
    rows = wine_list(filters=filters).order_by().values_list(column).annotate(n=Count("pk"))
    return dict(rows)


def _options(rows, counts: dict, chosen: str, group=None) -> list[FacetOption]:
    return [
        FacetOption(
            row.slug,
            row.name,
            counts.get(row.pk, 0),
            row.slug == chosen,
            group(row) if group else "",
        )
        for row in rows
        if counts.get(row.pk) or row.slug == chosen
    ]


def catalog_facets(*, filters: WineFilters) -> CatalogFacets:
    """Return the filter form's options with their counts for filters, or the unknown filters.

    At most seven queries: the categories, countries and regions there are, one count per facet
    and the wines in stock.
    """
    categories = list(Category.objects.all())
    countries = list(Country.objects.all())
    regions = list(Region.objects.select_related("country"))
    known = {
        "category": {c.slug for c in categories},
        "country": {c.slug for c in countries},
        "region": {r.slug for r in regions},
    }
    unknown = [name for name, slugs in known.items() if getattr(filters, name) not in slugs | {""}]
    if unknown:
        return CatalogFacets(filters=filters, unknown=unknown)
    dropped = None
    if filters.region and filters.country:
        region = next(r for r in regions if r.slug == filters.region)
        if region.country.slug != filters.country:
            dropped, filters = region, replace(filters, region="")
    by_category = _counts(replace(filters, category=""), "category")
    by_country = _counts(replace(filters, country="", region=""), "country")
    by_region = _counts(replace(filters, region=""), "region")
    category_options = _options(categories, by_category, filters.category)
    # Every wine has a category: the categories' counts add up to the wines of the page.
    total = sum(o.count for o in category_options if o.selected or not filters.category)
    return CatalogFacets(
        filters=filters,
        categories=category_options,
        countries=_options(countries, by_country, filters.country),
        regions=_options(regions, by_region, filters.region, group=lambda r: r.country.name),
        total=total,
        in_stock=total
        if filters.in_stock
        else wine_list(filters=replace(filters, in_stock=True)).count(),
        dropped_region=dropped,
    )


def wine_get(*, slug: str) -> Wine | None:
    return (
        Wine.objects.select_related("country", "region", "category")
        .filter(slug=slug, available=True)
        .first()
    )


def wine_list_low_stock() -> QuerySet[Wine]:
    """Return the wines on sale whose stock is at or below their low-stock threshold."""
    return (
        Wine.objects.filter(available=True, stock__lte=F("low_stock_threshold"))
        .select_related("country", "region", "category")
        .order_by("stock", "name")
    )
