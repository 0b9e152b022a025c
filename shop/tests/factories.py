from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from shop.delivery.countries import MINIMUM_AGES, VAT_RATES
from shop.delivery.models import Destination, ShippingRate, ShippingZone, ZoneArea
from shop.models import Category, Country, Region, Wine


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ["name"]

    name = factory.Iterator(["Red", "White", "Rosé", "Sparkling"])
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace("é", "e"))


class CountryFactory(DjangoModelFactory):
    class Meta:
        model = Country
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Country {n}")
    slug = factory.Sequence(lambda n: f"country-{n}")


class RegionFactory(DjangoModelFactory):
    class Meta:
        model = Region

    country = factory.SubFactory(CountryFactory)
    name = factory.Sequence(lambda n: f"Region {n}")
    slug = factory.Sequence(lambda n: f"region-{n}")


class WineFactory(DjangoModelFactory):
    class Meta:
        model = Wine

    sku = factory.Sequence(lambda n: f"T-{n:06d}")
    name = factory.Sequence(lambda n: f"Cuvée {n}")
    slug = factory.Sequence(lambda n: f"cuvee-{n}")
    producer = "Domaine Test"
    vintage = 2019
    category = factory.SubFactory(CategoryFactory)
    region = factory.SubFactory(RegionFactory)
    country = factory.LazyAttribute(lambda o: o.region.country)
    price = Decimal("12.50")
    stock = 24
    available = True


def shipping_zone(
    name: str,
    *,
    areas: list[tuple[str, str, str]],
    bands: list[tuple[int, int, str]],
    free_from: str | None = None,
    per_bottle_above: str | None = None,
    active: bool = True,
) -> ShippingZone:
    """Return a new zone of areas (country, only prefixes, except prefixes) and bands (from, to,
    price)."""
    zone = ShippingZone.objects.create(
        name=name,
        active=active,
        free_from=free_from and Decimal(free_from),
        per_bottle_above=per_bottle_above and Decimal(per_bottle_above),
    )
    for country, only, excluded in areas:
        ZoneArea.objects.create(
            zone=zone,
            destination=destination(country),
            postal_prefixes=only,
            excluded_postal_prefixes=excluded,
        )
    for low, high, price in bands:
        ShippingRate.objects.create(
            zone=zone, min_bottles=low, max_bottles=high, price=Decimal(price)
        )
    return zone


BANDS = [(1, 6), (7, 12), (13, 24)]


def bands(*prices: str) -> list[tuple[int, int, str]]:
    return [(low, high, price) for (low, high), price in zip(BANDS, prices, strict=True)]


def delivery_zones() -> dict[str, ShippingZone]:
    """Return the zones of a Bordeaux merchant: mainland France (free from 150, per bottle
    above 24), Corsica, two EU countries (free from 400) and the United Kingdom (up to 24)."""
    zones = [
        shipping_zone(
            "France (mainland)",
            areas=[("FR", "", "20, 97, 98")],
            bands=bands("9.90", "14.90", "19.90"),
            free_from="150.00",
            per_bottle_above="0.80",
        ),
        shipping_zone("Corsica", areas=[("FR", "20", "")], bands=bands("19.90", "29.90", "39.90")),
        shipping_zone(
            "European Union",
            areas=[("DE", "", ""), ("BE", "", "")],
            bands=bands("24.90", "34.90", "49.90"),
            free_from="400.00",
        ),
        shipping_zone(
            "United Kingdom", areas=[("GB", "", "")], bands=bands("39.90", "54.90", "79.90")
        ),
    ]
    return {zone.name: zone for zone in zones}


def photo_bytes(size=(800, 1200), *, fmt="JPEG", color=(123, 30, 58), orientation=None) -> bytes:
    """Return an image file's bytes; with an EXIF orientation as cameras write it."""
    import io

    from PIL import Image

    image = Image.new("RGB", size, color)
    # A white top-left quarter, to see where a rotation put it.
    image.paste((255, 255, 255), (0, 0, size[0] // 2, size[1] // 2))
    out = io.BytesIO()
    options = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        exif[0x010F] = "Camera maker"
        options["exif"] = exif
    image.save(out, fmt, **options)
    return out.getvalue()


def png_header(width: int, height: int) -> bytes:
    """Return a tiny PNG that declares width x height pixels: a decompression bomb's header."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def destination(country: str) -> Destination:
    """Return the country's destination, as the migrations seed it (transaction tests flush it)."""
    return Destination.objects.get_or_create(
        country=country,
        defaults={"vat_rate": VAT_RATES[country], "minimum_age": MINIMUM_AGES.get(country, 18)},
    )[0]


def flat_zone(
    name: str = "France",
    *,
    countries=("FR",),
    price: str | Decimal = "9.90",
    postal_prefixes: str = "",
    **fields,
) -> ShippingZone:
    """Return the zone of that name, made if missing: it delivers 1 to 120 bottles at price to
    the countries (or their postal codes starting with postal_prefixes)."""
    zone, created = ShippingZone.objects.get_or_create(name=name, defaults=fields)
    if created:
        for code in countries:
            ZoneArea.objects.create(
                zone=zone, destination=destination(code), postal_prefixes=postal_prefixes
            )
        ShippingRate.objects.create(zone=zone, min_bottles=1, max_bottles=120, price=price)
    return zone
