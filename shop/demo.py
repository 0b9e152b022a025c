"""Demo data: a believable catalog, shipping zones and, in development, an admin account.

The catalog is generated from curated styles with a seeded random generator, so every run yields
the same wines under the same SKUs; seeding again only adds what is missing.
"""

import enum
import random
from dataclasses import dataclass
from decimal import Decimal
from itertools import product

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from core.money import quantize
from shop.catalog_cache import catalog_changed
from shop.delivery.countries import destination_defaults
from shop.delivery.models import Destination, ShippingRate, ShippingZone, ZoneArea
from shop.delivery.selectors import delivery_zones_changed
from shop.demo_data import PRODUCERS, SERVING, STYLES, ZONES, Style
from shop.imports import free_slugs
from shop.models import Category, Country, Region, Wine, unique_slug, wine_search_text

ADMIN_USERNAME = "admin"
# Published on purpose: it is only ever set in development (DEBUG), and printed there.
ADMIN_PASSWORD = "wine-shop-demo"  # noqa: S105
# Fixed rather than this year's, so the catalog stays the same whenever it is seeded.
LATEST_VINTAGE = 2023
# Any fixed seed will do; changing it reshuffles the catalog and its SKUs.
SEED = 1855


class AdminOutcome(enum.Enum):
    CREATED = "created"
    EXISTS = "exists"
    NOT_DEBUG = "not-debug"
    NOT_REQUESTED = "not-requested"


@dataclass(frozen=True)
class SeedResult:
    wines: int
    wines_created: int
    categories: int
    countries: int
    regions: int
    zones: int
    zones_created: int
    admin: AdminOutcome


def demo_wines() -> list[dict]:
    """Return the demo catalog as field values, with names for the category, country, region."""
    rng = random.Random(SEED)
    wines = []
    for style in STYLES:
        producers = style.producers or PRODUCERS[style.region]
        picks = rng.sample(list(product(range(len(style.names)), producers)), style.count)
        for index, producer in sorted(picks):
            # Each name owns a slice of the style's range, so a Barolo costs more than a Langhe.
            position = (index + rng.random()) / len(style.names)
            wines.append(_wine(rng, style, style.names[index], producer, position))
    for number, wine in enumerate(wines, start=1):
        wine["sku"] = f"WS-{number:05d}"
    return wines


def _wine(rng: random.Random, style: Style, name: str, producer: str, position: float) -> dict:
    low, high = style.price
    price = low + (high - low) * position
    # Shelf prices: 12.90 below a hundred, round fives above.
    price = Decimal(int(price)) + Decimal("0.90") if price < 100 else Decimal(round(price / 5) * 5)
    vintage = None
    if style.ages:
        young, old = style.ages
        vintage = LATEST_VINTAGE - young - round((old - young) * position)
    threshold = 12 if price < 20 else 6
    roll = rng.random()
    if roll < 0.07:
        stock = 0
    elif roll < 0.2:
        stock = rng.randint(1, threshold)
    else:
        stock = rng.randint(8, 36) if price >= 60 else rng.randint(18, 144)
    origin = f"{style.grapes} from {style.region}, {style.country}"
    serving = rng.choice(SERVING[style.category])
    return {
        "name": name,
        "producer": producer,
        "vintage": vintage,
        "category": style.category,
        "country": style.country,
        "region": style.region,
        "price": quantize(price),
        "stock": stock,
        "low_stock_threshold": threshold,
        "description": f"{origin}: {style.note}. {serving}",
    }


@transaction.atomic
def seed_demo(*, create_admin: bool) -> SeedResult:
    """Add the demo catalog's and shipping zones' missing rows, and the demo admin in development.

    Rows that exist already are left as they are: a merchant may have changed their price or stock,
    or a zone's rates.
    """
    wines = demo_wines()
    categories = _ensure(Category, {w["category"] for w in wines})
    countries = _ensure(Country, {w["country"] for w in wines})
    regions = _ensure_regions(countries, {(w["country"], w["region"]) for w in wines})

    existing = set(
        Wine.objects.filter(sku__in=[w["sku"] for w in wines]).values_list("sku", flat=True)
    )
    new = [w for w in wines if w["sku"] not in existing]
    # Slugs a wine added by hand already holds get -2, -3, ... as in a wine import.
    slugs = free_slugs(Wine, [_wine_slug(w) for w in new], max_length=200)
    rows = []
    for fields, slug in zip(new, slugs, strict=True):
        country, region = fields["country"], fields["region"]
        fields.update(
            slug=slug,
            category=categories[fields["category"]],
            country=countries[country],
            region=regions[country, region],
        )
        wine = Wine(**fields)
        wine.search_text = wine_search_text(wine)
        rows.append(wine)
    Wine.objects.bulk_create(rows)
    if new:
        # bulk_create sends no post_save, so the cached catalog pages would not be retired.
        catalog_changed()

    return SeedResult(
        wines=len(wines),
        wines_created=len(new),
        categories=len(categories),
        countries=len(countries),
        regions=len(regions),
        zones=len(ZONES),
        zones_created=_ensure_zones(),
        admin=_ensure_admin() if create_admin else AdminOutcome.NOT_REQUESTED,
    )


def _ensure(model: type[Category | Country], names: set[str]) -> dict:
    """Return the rows of model named names, creating the missing ones."""
    rows = {row.name: row for row in model.objects.filter(name__in=names)}
    for name in sorted(names - rows.keys()):
        rows[name] = model.objects.create(name=name, slug=unique_slug(model, name))
    return rows


def _ensure_regions(countries: dict, pairs: set[tuple[str, str]]) -> dict:
    rows = {
        (region.country.name, region.name): region
        for region in Region.objects.filter(country__in=countries.values()).select_related(
            "country"
        )
    }
    for country, name in sorted(pairs - rows.keys()):
        # Region slugs are unique across countries; the country keeps them apart.
        slug = unique_slug(Region, f"{country} {name}")
        rows[country, name] = Region.objects.create(
            country=countries[country], name=name, slug=slug
        )
    return {pair: rows[pair] for pair in pairs}


def _ensure_zones() -> int:
    """Create the demo shipping zones missing by name, with their areas and rates; count them."""
    existing = set(ShippingZone.objects.values_list("name", flat=True))
    new = [zone for zone in ZONES if zone.name not in existing]
    if not new:
        return 0
    codes = {code for zone in new for code, _, _ in zone.areas}
    destinations = Destination.objects.in_bulk(codes, field_name="country")
    for code in sorted(codes - destinations.keys()):
        # Seeded by a migration; one the merchant deleted comes back at its default.
        destinations[code] = Destination.objects.create(country=code, **destination_defaults(code))
    for demo in new:
        zone = ShippingZone.objects.create(
            name=demo.name,
            free_from=demo.free_from and Decimal(demo.free_from),
            per_bottle_above=demo.per_bottle_above and Decimal(demo.per_bottle_above),
        )
        ZoneArea.objects.bulk_create(
            ZoneArea(
                zone=zone,
                destination=destinations[code],
                postal_prefixes=only,
                excluded_postal_prefixes=excluded,
            )
            for code, only, excluded in demo.areas
        )
        ShippingRate.objects.bulk_create(
            ShippingRate(zone=zone, min_bottles=low, max_bottles=high, price=Decimal(price))
            for low, high, price in demo.bands
        )
    # bulk_create sends no post_save: the areas and rates would not retire the countries served.
    delivery_zones_changed()
    return len(new)


def _wine_slug(wine: dict) -> str:
    return slugify(f"{wine['producer']} {wine['name']} {wine['vintage'] or 'NV'}")


def _ensure_admin() -> AdminOutcome:
    if not settings.DEBUG:
        return AdminOutcome.NOT_DEBUG
    user_model = get_user_model()
    if user_model._default_manager.filter(**{user_model.USERNAME_FIELD: ADMIN_USERNAME}).exists():
        return AdminOutcome.EXISTS
    user_model._default_manager.create_superuser(
        ADMIN_USERNAME, "admin@example.com", ADMIN_PASSWORD
    )
    return AdminOutcome.CREATED
