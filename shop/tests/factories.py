from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from shop.delivery.countries import MINIMUM_AGES, VAT_RATES
from shop.models import (
    Category,
    Country,
    Destination,
    Region,
    ShippingRate,
    ShippingZone,
    Wine,
    ZoneArea,
)


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


def shipping_zone(
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
