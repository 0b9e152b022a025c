from decimal import Decimal

import pytest
from django.utils import translation

from shop.delivery.models import DeliveryMethod, Destination
from shop.delivery.selectors import delivery_countries, delivery_quote
from shop.exceptions import DeliveryRefused
from shop.tests.factories import delivery_zones, shipping_zone

pytestmark = pytest.mark.django_db

DELIVERY, COLLECT = DeliveryMethod.DELIVERY, DeliveryMethod.COLLECT
SERVED = "We deliver to: Belgium, France, Germany, United Kingdom."


@pytest.fixture
def zones():
    return delivery_zones()


def quote(country="FR", postal_code="", bottles=6, subtotal="50.00", method=DELIVERY):
    return delivery_quote(
        method=method,
        country=country,
        postal_code=postal_code,
        bottles=bottles,
        subtotal=Decimal(subtotal),
    )


@pytest.mark.parametrize(
    ("country", "postal_code", "bottles", "subtotal", "zone", "charge"),
    [
        # Band edges.
        ("FR", "", 1, "10.00", "France (mainland)", "9.90"),
        ("FR", "", 6, "50.00", "France (mainland)", "9.90"),
        ("FR", "", 7, "50.00", "France (mainland)", "14.90"),
        ("FR", "", 12, "50.00", "France (mainland)", "14.90"),
        ("FR", "", 13, "50.00", "France (mainland)", "19.90"),
        ("FR", "", 24, "50.00", "France (mainland)", "19.90"),
        # Above the last band, at its price plus 0.80 a bottle.
        ("FR", "", 25, "50.00", "France (mainland)", "20.70"),
        ("FR", "", 36, "50.00", "France (mainland)", "29.50"),
        ("GB", "", 24, "50.00", "United Kingdom", "79.90"),
        # The free-delivery threshold, compared with the wine after its coupon.
        ("FR", "", 6, "150.00", "France (mainland)", "0.00"),
        ("FR", "", 6, "149.99", "France (mainland)", "9.90"),
        ("FR", "", 30, "150.00", "France (mainland)", "0.00"),
        ("DE", "", 12, "400.00", "European Union", "0.00"),
        ("DE", "", 12, "399.99", "European Union", "34.90"),
        ("GB", "", 6, "5000.00", "United Kingdom", "39.90"),
        # Postal codes: Corsica's prefix takes 20000 from mainland France, which excludes it.
        ("FR", "33000", 6, "50.00", "France (mainland)", "9.90"),
        ("FR", "20000", 6, "50.00", "Corsica", "19.90"),
        ("FR", "20000", 7, "500.00", "Corsica", "29.90"),
        ("FR", "02000", 6, "50.00", "France (mainland)", "9.90"),
    ],
)
def test_delivery_is_quoted_by_zone_band_and_threshold(
    zones, country, postal_code, bottles, subtotal, zone, charge
):
    result = quote(country, postal_code, bottles, subtotal)

    assert (result.method, result.country, result.zone) == (DELIVERY, country, zone)
    assert result.charge == Decimal(charge)
    assert str(result.charge) == charge


@pytest.mark.parametrize(
    ("country", "postal_code", "bottles", "message"),
    [
        # Above the last band of a zone without a price per bottle.
        (
            "GB",
            "",
            25,
            "We can't deliver 25 bottles to United Kingdom: it takes orders of 1–6, 7–12, "
            "13–24 bottles. Change your cart, or choose click & collect.",
        ),
        # Overseas France is excluded from the mainland and in no other zone.
        ("FR", "97100", 6, f"We don't deliver to France (postal code 97100). {SERVED}"),
        ("FR", "98000", 6, f"We don't deliver to France (postal code 98000). {SERVED}"),
        ("JP", "", 6, f"We don't deliver to Japan. {SERVED}"),
        ("US", "10001", 1, f"We don't deliver to United States (postal code 10001). {SERVED}"),
        ("XX", "", 1, f"We don't deliver to XX. {SERVED}"),
    ],
)
def test_delivery_the_shop_cant_make_is_refused_naming_the_countries_served(
    zones, country, postal_code, bottles, message
):
    with pytest.raises(DeliveryRefused) as refusal:
        quote(country, postal_code, bottles)
    assert str(refusal.value) == message


def test_an_inactive_zone_serves_no_one(zones):
    shipping_zone("Americas", areas=[("US", "", "")], bands=[(1, 12, "60.00")], active=False)
    zones["United Kingdom"].active = False
    zones["United Kingdom"].save()

    for country in ("US", "GB"):
        with pytest.raises(DeliveryRefused, match=r"We deliver to: Belgium, France, Germany\.$"):
            quote(country)
    assert [code for code, _ in delivery_countries()] == ["BE", "FR", "DE"]


def test_a_zone_without_rates_serves_no_one(zones):
    shipping_zone("Switzerland", areas=[("CH", "", "")], bands=[])

    with pytest.raises(DeliveryRefused) as refusal:
        quote("CH")
    assert str(refusal.value) == f"We don't deliver to Switzerland. {SERVED}"
    assert "CH" not in dict(delivery_countries())


def test_nowhere_served_says_to_choose_click_and_collect():
    with pytest.raises(DeliveryRefused) as refusal:
        quote("FR")
    assert str(refusal.value) == (
        "We don't deliver to France. We deliver to: nowhere yet; choose click & collect."
    )


def test_countries_served_are_listed_once_by_name(zones):
    assert delivery_countries() == [
        ("BE", "Belgium"),
        ("FR", "France"),
        ("DE", "Germany"),
        ("GB", "United Kingdom"),
    ]


def test_countries_served_are_read_from_the_cache_until_a_zone_changes(
    zones, django_assert_num_queries, django_capture_on_commit_callbacks
):
    delivery_countries()
    with django_assert_num_queries(0):
        assert "GB" in dict(delivery_countries())

    with django_capture_on_commit_callbacks(execute=True):
        zones["United Kingdom"].rates.all().delete()
    assert "GB" not in dict(delivery_countries())

    with django_capture_on_commit_callbacks(execute=True):
        shipping_zone("Switzerland", areas=[("CH", "", "")], bands=[(1, 12, "30.00")])
    assert "CH" in dict(delivery_countries())

    with django_capture_on_commit_callbacks(execute=True):
        zones["European Union"].areas.get(destination__country="BE").delete()
    assert "BE" not in dict(delivery_countries())


def test_countries_served_are_named_in_the_language_of_the_page(zones):
    delivery_countries()
    with translation.override("fr"):
        assert dict(delivery_countries())["DE"] == "Allemagne"


@pytest.mark.parametrize(
    ("home", "vat_rate"), [("FR", Decimal("0.2000")), ("DE", Decimal("0.1900"))]
)
def test_click_and_collect_is_free_and_taxed_as_a_sale_at_home(zones, settings, home, vat_rate):
    settings.SHOP_COUNTRY = home

    # Whatever the country, bottles or subtotal sent with it.
    result = quote("JP", "97100", 500, "1.00", method=COLLECT)

    assert (result.method, result.country, result.zone) == (COLLECT, home, "")
    assert result.charge == Decimal("0.00")
    assert result.vat_rate == vat_rate
    assert result.minimum_age == 18


def test_click_and_collect_without_a_home_destination_uses_the_vat_rate_setting(settings):
    Destination.objects.filter(country="FR").delete()
    settings.VAT_RATE = Decimal("0.21")

    result = quote(method=COLLECT)

    assert (result.vat_rate, result.minimum_age) == (Decimal("0.21"), 18)


@pytest.mark.parametrize("method", ["", "post", "COLLECT", "delivery ", None])
def test_an_unknown_method_is_refused(zones, method):
    with pytest.raises(DeliveryRefused, match=r"^Choose delivery or click & collect\.$"):
        quote(method=method)


def test_the_quote_carries_the_destination_vat_rate_and_age(zones):
    Destination.objects.filter(country="DE").update(vat_rate=Decimal("0.07"), minimum_age=16)

    result = quote("DE")

    assert (result.vat_rate, result.minimum_age, result.country_name) == (
        Decimal("0.0700"),
        16,
        "Germany",
    )
    assert result.free_from == Decimal("400.00")
    assert quote("GB").free_from is None


@pytest.mark.parametrize(
    ("postal_code", "zone"),
    [
        ("20000", "Corsica"),
        ("20200", "Bastia"),
        ("20290", "Bastia"),
        ("20260", "Bastia"),
        ("20600", "Bastia airport"),
        ("33000", "France (mainland)"),
        ("", "France (mainland)"),
    ],
)
def test_the_longest_matching_prefix_wins(zones, postal_code, zone):
    shipping_zone("Bastia", areas=[("FR", "202", "")], bands=[(1, 6, "15.00")])
    shipping_zone("Bastia airport", areas=[("FR", "2060, 2029X", "")], bands=[(1, 6, "12.00")])

    assert quote("FR", postal_code).zone == zone


def test_an_exclusion_beats_a_prefix_of_the_same_area(zones):
    shipping_zone("Corsica outside Ajaccio", areas=[("FR", "20", "200")], bands=[(1, 6, "25.00")])
    zones["Corsica"].delete()

    assert quote("FR", "20200").zone == "Corsica outside Ajaccio"
    with pytest.raises(DeliveryRefused, match=r"France \(postal code 20000\)"):
        quote("FR", "20000")


def test_a_country_part_is_served_only_to_a_postal_code_in_it(zones):
    zones["France (mainland)"].delete()

    # Corsica takes only its own postal codes: without one, France is not served.
    with pytest.raises(DeliveryRefused, match=r"We don't deliver to France\. "):
        quote("FR")
    assert quote("FR", "20000").zone == "Corsica"
