from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

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
