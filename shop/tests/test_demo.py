from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from coupons.models import Coupon
from shop.delivery.models import Destination, ShippingZone
from shop.delivery.selectors import delivery_countries, delivery_quote
from shop.demo import ADMIN_PASSWORD, ADMIN_USERNAME, AdminOutcome, demo_wines, seed_demo
from shop.exceptions import DeliveryRefused
from shop.models import Category, Country, Region, Wine
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def debug(settings):
    settings.DEBUG = True
    # test_settings does this too; repeated so a run on the plain settings stays quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings


def catalog_counts():
    return [model.objects.count() for model in (Category, Country, Region, Wine)]


def test_seed_creates_a_stocked_catalog_across_countries():
    result = seed_demo(create_admin=False)

    in_stock = Wine.objects.filter(stock__gt=0)
    assert result.wines_created == result.wines == Wine.objects.count()
    assert in_stock.count() >= 200
    assert in_stock.values("country").distinct().count() >= 8
    assert {"Red", "White", "Rosé", "Sparkling", "Sweet", "Fortified"} <= set(
        Category.objects.values_list("name", flat=True)
    )
    assert Wine.objects.filter(stock=0).exists()
    assert Wine.objects.filter(stock__gt=0, stock__lte=F("low_stock_threshold")).exists()


def test_seed_again_changes_nothing_and_keeps_merchant_edits(django_assert_max_num_queries):
    seed_demo(create_admin=False)
    wine = Wine.objects.get(sku="WS-00001")
    Wine.objects.filter(pk=wine.pk).update(stock=wine.stock + 7)
    counts = catalog_counts()

    with django_assert_max_num_queries(8):
        result = seed_demo(create_admin=False)

    assert result.wines_created == 0
    assert catalog_counts() == counts
    again = Wine.objects.get(pk=wine.pk)
    assert (again.stock, again.price, again.updated) == (wine.stock + 7, wine.price, wine.updated)


def test_seed_numbers_the_slugs_that_wines_added_by_hand_hold():
    first = demo_wines()[0]
    slug = slugify(f"{first['producer']} {first['name']} {first['vintage'] or 'NV'}")
    WineFactory(slug=slug)
    WineFactory(slug=f"{slug}-2")

    seed_demo(create_admin=False)

    assert Wine.objects.get(sku=first["sku"]).slug == f"{slug}-3"
    assert Wine.objects.values("slug").distinct().count() == Wine.objects.count()


def test_every_wine_region_belongs_to_the_wine_country():
    seed_demo(create_admin=False)

    assert not Wine.objects.filter(region__isnull=True).exists()
    assert not Wine.objects.exclude(region__country=F("country")).exists()


def test_no_vintage_is_in_the_future_and_some_wines_are_non_vintage():
    seed_demo(create_admin=False)

    assert not Wine.objects.filter(vintage__gt=timezone.localdate().year).exists()
    assert Wine.objects.filter(vintage__isnull=True).exists()


def test_demo_catalog_is_the_same_every_run():
    first = demo_wines()

    assert first == demo_wines()
    assert len({w["sku"] for w in first}) == len(first)
    assert len({(w["producer"], w["name"], w["vintage"]) for w in first}) == len(first)


def test_admin_is_created_in_debug_without_resetting_its_password(debug):
    assert seed_demo(create_admin=True).admin is AdminOutcome.CREATED
    admin = get_user_model().objects.get(username=ADMIN_USERNAME)
    assert admin.is_superuser
    assert admin.check_password(ADMIN_PASSWORD)

    admin.set_password("changed-by-the-merchant")
    admin.save()
    assert seed_demo(create_admin=True).admin is AdminOutcome.EXISTS
    admin.refresh_from_db()
    assert admin.check_password("changed-by-the-merchant")


def test_admin_is_not_created_without_debug(settings):
    settings.DEBUG = False

    assert seed_demo(create_admin=True).admin is AdminOutcome.NOT_DEBUG
    assert not get_user_model().objects.exists()


def test_command_prints_the_summary_and_credentials(debug):
    out = StringIO()

    call_command("seed_demo", stdout=out)

    output = out.getvalue()
    count = Wine.objects.count()
    assert f"Catalog: {count} wines ({count} new), 6 categories" in output
    assert f"user {ADMIN_USERNAME}  password {ADMIN_PASSWORD}" in output
    assert "Coupons: WELCOME10 (10 % off), VIP25 (25 % off)." in output
    call_command("seed_demo", stdout=StringIO())  # again: nothing doubles
    assert Coupon.objects.count() == 2


def test_command_without_debug_creates_no_coupons_and_says_so(settings):
    settings.DEBUG = False
    out = StringIO()

    call_command("seed_demo", stdout=out)

    assert "Coupons: not created, DEBUG is off." in out.getvalue()
    assert not Coupon.objects.exists()
    assert Wine.objects.exists()


def test_seed_adds_the_shipping_zones_of_a_bordeaux_merchant():
    result = seed_demo(create_admin=False)

    assert (result.zones, result.zones_created) == (5, 5)
    served = dict(delivery_countries())
    assert {"FR", "MC", "DE", "BE", "IT", "ES", "GB", "CH"} <= served.keys()

    def charge(country, bottles, subtotal="50", postal_code=""):
        return delivery_quote(
            method="delivery",
            country=country,
            postal_code=postal_code,
            bottles=bottles,
            subtotal=Decimal(subtotal),
        ).charge

    assert [charge("FR", n) for n in (6, 7, 13, 25)] == [
        Decimal(p) for p in ("9.90", "14.90", "19.90", "20.70")
    ]
    assert charge("FR", 6, "150") == Decimal("0.00")
    assert charge("FR", 6, "150", "20000") == Decimal("19.90")
    assert charge("MC", 6) == Decimal("9.90")
    assert charge("DE", 12, "399.99") == Decimal("34.90")
    assert charge("DE", 12, "400") == Decimal("0.00")
    assert charge("GB", 24) == Decimal("79.90")
    assert charge("CH", 1) == Decimal("34.90")
    with pytest.raises(DeliveryRefused):
        charge("FR", 6, postal_code="97100")
    with pytest.raises(DeliveryRefused):
        charge("GB", 25)


def test_seed_again_keeps_the_merchant_zones_as_they_are():
    seed_demo(create_admin=False)
    corsica = ShippingZone.objects.get(name="Corsica")
    corsica.rates.filter(min_bottles=1).update(price=Decimal("17.00"))
    ShippingZone.objects.filter(name="Switzerland").delete()

    result = seed_demo(create_admin=False)

    assert result.zones_created == 1
    assert corsica.rates.get(min_bottles=1).price == Decimal("17.00")
    assert ShippingZone.objects.get(name="Switzerland").rates.count() == 3
    assert ShippingZone.objects.count() == 5


def test_seed_brings_back_a_destination_the_merchant_deleted():
    Destination.objects.filter(country="CH").delete()

    seed_demo(create_admin=False)

    assert Destination.objects.get(country="CH").vat_rate == 0


def test_command_says_how_many_zones_it_added(settings):
    settings.DEBUG = False
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Delivery: 5 shipping zones (5 new)." in out.getvalue()
