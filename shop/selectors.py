from collections import Counter
from dataclasses import dataclass, field, replace

from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from core.search import search_words
from shop.models import Category, Country, Region, Wine, WineGroup

SEARCH_MAX_LENGTH = 100
# The catalog's orders (?sort=); ties in name order, a stable order for pages. Non-vintage wines
# come last both ways.
BY_NAME = ("name", "id")
SORTS = {
    "name": (_("Name"), BY_NAME),
    "price": (_("Price, low to high"), ("price", *BY_NAME)),
    "price-desc": (_("Price, high to low"), ("-price", *BY_NAME)),
    "newest": (_("Vintage, newest first"), (F("vintage").desc(nulls_last=True), *BY_NAME)),
    "oldest": (_("Vintage, oldest first"), (F("vintage").asc(nulls_last=True), *BY_NAME)),
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


def wine_list(*, filters: WineFilters, keys: dict[str, int] | None = None) -> QuerySet[Wine]:
    """Return the wines on sale that match the filters, in the order they ask for.

    keys: the primary keys of the filters' category, country and region, when the caller has
    them (CatalogFacets.keys). A key shows the database which value is asked for and how many
    wines have it, so that it reads a region of ten wines by the region's index rather than
    every wine in name order until ten have matched.
    """
    wines = Wine.objects.filter(available=True).select_related("country", "region", "category")
    keys = keys or {}
    for name in ("category", "country", "region"):
        if slug := getattr(filters, name):
            by = {f"{name}_id": keys[name]} if name in keys else {f"{name}__slug": slug}
            wines = wines.filter(**by)
    if filters.in_stock:
        wines = wines.filter(stock__gt=0)
    return _searched(wines, filters.q).order_by(*SORTS[filters.sort or DEFAULT_SORT][1])


def _searched(wines: QuerySet[Wine], q: str) -> QuerySet[Wine]:
    """Return the wines whose name, producer, region, country or category hold every word of q,
    accents and case aside (see Wine.search_text)."""
    for word in search_words(q):
        wines = wines.filter(search_text__contains=word)
    return wines


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
    # The primary keys of the filters' category, country and region, for wine_list.
    keys: dict[str, int] = field(default_factory=dict)
    categories: list[FacetOption] = field(default_factory=list)
    countries: list[FacetOption] = field(default_factory=list)
    regions: list[FacetOption] = field(default_factory=list)
    total: int = 0  # the wines that match the filters
    in_stock: int = 0  # and of those, or with "hide sold out", the wines in stock
    dropped_region: Region | None = None  # a region asked for that is not in the country

    @property
    def chosen_country(self) -> FacetOption | None:
        return next((option for option in self.countries if option.selected), None)


@dataclass(frozen=True)
class _Group:
    """The wines on sale found by a search that share a category, country and region."""

    category: int
    country: int
    region: int | None
    wines: int
    in_stock: int


def _groups(q: str) -> list[_Group]:
    """Return the groups of the wines on sale that a search finds, in one query: without a
    search, the few rows the database keeps counted (WineGroup), whatever the catalog's size."""
    if not q:
        rows = WineGroup.objects.filter(wines__gt=0).values_list(
            "category", "country", "region", "wines", "in_stock"
        )
        return [_Group(c, country, region or None, w, s) for c, country, region, w, s in rows]
    wines = _searched(Wine.objects.filter(available=True), q).order_by()
    rows = wines.values_list("category", "country", "region").annotate(
        wines=Count("pk"), in_stock=Count("pk", filter=Q(stock__gt=0))
    )
    return [_Group(*row) for row in rows]


def _tally(groups: list[_Group], chosen: dict, *, in_stock: bool, by: str = "") -> Counter:
    """Return the wines of the groups that match the chosen ids, per value of by."""
    counts = Counter()
    for group in groups:
        if all(getattr(group, name) == pk for name, pk in chosen.items()):
            counts[getattr(group, by) if by else None] += (
                group.in_stock if in_stock else group.wines
            )
    return counts


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

    Four queries: the categories, countries and regions there are, and the wines the search
    finds, counted by category, country and region.
    """
    categories = list(Category.objects.all())
    countries = list(Country.objects.all())
    regions = list(Region.objects.select_related("country"))
    ids = {
        "category": {c.slug: c.pk for c in categories},
        "country": {c.slug: c.pk for c in countries},
        "region": {r.slug: r.pk for r in regions},
    }
    unknown = [name for name, pks in ids.items() if getattr(filters, name) not in pks.keys() | {""}]
    if unknown:
        return CatalogFacets(filters=filters, unknown=unknown)
    dropped = None
    if filters.region and filters.country:
        region = next(r for r in regions if r.slug == filters.region)
        if region.country.slug != filters.country:
            dropped, filters = region, replace(filters, region="")
    # Every count from one query: what the search finds, by category, country and region.
    groups = _groups(filters.q)
    chosen = {
        name: pks[getattr(filters, name)] for name, pks in ids.items() if getattr(filters, name)
    }

    def tally(*left_out: str, in_stock: bool = filters.in_stock, by: str = "") -> Counter:
        others = {name: pk for name, pk in chosen.items() if name not in left_out}
        return _tally(groups, others, in_stock=in_stock, by=by)

    return CatalogFacets(
        filters=filters,
        keys=chosen,
        categories=_options(categories, tally("category", by="category"), filters.category),
        countries=_options(countries, tally("country", "region", by="country"), filters.country),
        regions=_options(
            regions, tally("region", by="region"), filters.region, group=lambda r: r.country.name
        ),
        total=tally()[None],
        in_stock=tally(in_stock=True)[None],
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
