from dataclasses import asdict, dataclass

from django.db.models import F, Q, QuerySet

from shop.models import Category, Country, Region, Wine

SEARCH_MAX_LENGTH = 100


@dataclass(frozen=True)
class WineFilters:
    category: str = ""
    country: str = ""
    region: str = ""
    q: str = ""

    @classmethod
    def from_query(cls, params) -> "WineFilters":
        """Return the filters of a query string, ignoring anything that is not a filter."""

        def one(name: str, max_length: int = 120) -> str:
            value = params.get(name, "")
            if not isinstance(value, str):
                return ""
            # NUL can't be stored or searched for in PostgreSQL text.
            return value.replace("\x00", "").strip()[:max_length]

        return cls(one("category"), one("country"), one("region"), one("q", SEARCH_MAX_LENGTH))

    def as_key(self) -> str:
        return "|".join([self.category, self.country, self.region, self.q])

    def as_query(self) -> dict[str, str]:
        """Return the filters that are set, for links: what the page shows, not what was asked."""
        return {name: value for name, value in asdict(self).items() if value}


def wine_list(*, filters: WineFilters) -> QuerySet[Wine]:
    """Return the wines on sale that match the filters, in catalog order."""
    wines = Wine.objects.filter(available=True).select_related("country", "region", "category")
    if filters.category:
        wines = wines.filter(category__slug=filters.category)
    if filters.country:
        wines = wines.filter(country__slug=filters.country)
    if filters.region:
        wines = wines.filter(region__slug=filters.region)
    if filters.q:
        wines = wines.filter(Q(name__icontains=filters.q) | Q(producer__icontains=filters.q))
    return wines.order_by("name", "id")


@dataclass(frozen=True)
class CatalogFacets:
    categories: list[Category]
    countries: list[Country]
    regions: list[Region]

    def unknown(self, filters: WineFilters) -> list[str]:
        """Return the names of the filters whose value names nothing in the catalog."""
        known = {
            "category": {c.slug for c in self.categories},
            "country": {c.slug for c in self.countries},
            "region": {r.slug for r in self.regions},
        }
        return [name for name, slugs in known.items() if getattr(filters, name) not in slugs | {""}]


def catalog_facets() -> CatalogFacets:
    """Return the categories, countries and regions a customer can filter by."""
    return CatalogFacets(
        categories=list(Category.objects.all()),
        countries=list(Country.objects.all()),
        regions=list(Region.objects.select_related("country")),
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
