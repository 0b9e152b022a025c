import html
from decimal import Decimal

import pytest
from django.urls import reverse

from shop.delivery.models import Destination, ShippingRate, ShippingZone, ZoneArea
from shop.tests.factories import delivery_zones

pytestmark = pytest.mark.django_db

ZONES = reverse("admin:shop_shippingzone_changelist")
ADD_ZONE = reverse("admin:shop_shippingzone_add")
DESTINATIONS = reverse("admin:shop_destination_changelist")


def page(response) -> str:
    return html.unescape(response.content.decode())


def zone_form(*, areas=(), bands=(), **fields) -> dict:
    """Return the zone's add form as the admin posts it: areas (country, only, except), bands."""
    data = {
        "name": "Nordics",
        "active": "on",
        "free_from": "",
        "per_bottle_above": "",
        **fields,
        "areas-TOTAL_FORMS": len(areas),
        "areas-INITIAL_FORMS": 0,
        "rates-TOTAL_FORMS": len(bands),
        "rates-INITIAL_FORMS": 0,
    }
    for n, (country, only, excluded) in enumerate(areas):
        destination = Destination.objects.get(country=country)
        data |= {
            f"areas-{n}-destination": destination.pk,
            f"areas-{n}-postal_prefixes": only,
            f"areas-{n}-excluded_postal_prefixes": excluded,
        }
    for n, (low, high, price) in enumerate(bands):
        data |= {
            f"rates-{n}-min_bottles": low,
            f"rates-{n}-max_bottles": high,
            f"rates-{n}-price": price,
        }
    return data


def test_zone_list_shows_countries_rates_and_threshold(admin_client, django_assert_max_num_queries):
    delivery_zones()
    with django_assert_max_num_queries(12):
        response = admin_client.get(ZONES)
    text = page(response)
    assert response.status_code == 200
    assert "France (except 20, 97, 98)" in text
    assert "France (only 20)" in text
    assert "Belgium, Germany" in text
    assert "1–6: €9.90, 7–12: €14.90, 13–24: €19.90, then +€0.80 a bottle" in text
    assert "1–6: €39.90, 7–12: €54.90, 13–24: €79.90<" in text
    assert "€150.00" in text and "€400.00" in text


def test_merchant_adds_a_zone_with_its_countries_and_bands(admin_client):
    response = admin_client.post(
        ADD_ZONE,
        zone_form(
            areas=[("SE", "", ""), ("DK", "", "39")],
            bands=[(1, 6, "29.90"), (7, 12, "39.90")],
            free_from="500",
            per_bottle_above="1.50",
        ),
    )

    assert response.status_code == 302, page(response)
    zone = ShippingZone.objects.get(name="Nordics")
    assert (zone.free_from, zone.per_bottle_above) == (Decimal("500.00"), Decimal("1.50"))
    assert sorted(zone.areas.values_list("destination__country", "excluded_postal_prefixes")) == [
        ("DK", "39"),
        ("SE", ""),
    ]
    assert list(zone.rates.values_list("min_bottles", "max_bottles", "price")) == [
        (1, 6, Decimal("29.90")),
        (7, 12, Decimal("39.90")),
    ]


@pytest.mark.parametrize(
    ("bands", "error"),
    [
        ([(1, 6, "9"), (6, 12, "12")], "Bands 1–6 and 6–12 overlap."),
        (
            [(1, 6, "9"), (13, 24, "12")],
            "Bands 1–6 and 13–24 leave a gap: orders of 7–12 bottles would have no price.",
        ),
        ([(2, 6, "9")], "The first band must start at 1 bottle, not at 2."),
        ([(1, 6, "9"), (1, 12, "12")], "Bands 1–6 and 1–12 overlap."),
        ([(1, 6, "9"), (12, 7, "12")], "Constraint “shipping_rate_band” is violated."),
        ([(1, 6, "-1")], "Ensure this value is greater than or equal to 0."),
    ],
)
def test_bands_that_overlap_leave_a_gap_or_start_late_are_refused(admin_client, bands, error):
    response = admin_client.post(ADD_ZONE, zone_form(areas=[("SE", "", "")], bands=bands))

    assert response.status_code == 200
    assert error in page(response)
    assert not ShippingZone.objects.exists()
    assert not ShippingRate.objects.exists()


@pytest.mark.parametrize("prefixes", ["20;97", "2A-", "<b>", "12345678901"])
def test_postal_prefixes_are_letters_and_digits(admin_client, prefixes):
    response = admin_client.post(
        ADD_ZONE, zone_form(areas=[("FR", prefixes, "")], bands=[(1, 6, "9")])
    )

    assert response.status_code == 200
    assert "is not a postal-code prefix: letters and digits, up to 10." in page(response)
    assert not ZoneArea.objects.exists()


def test_a_country_is_in_a_zone_once(admin_client):
    response = admin_client.post(
        ADD_ZONE, zone_form(areas=[("FR", "20", ""), ("FR", "97", "")], bands=[(1, 6, "9")])
    )

    assert response.status_code == 200
    assert "Please correct the duplicate data for destination" in page(response)


def test_editing_a_zone_checks_the_bands_it_keeps(admin_client):
    zone = delivery_zones()["United Kingdom"]
    rates = list(zone.rates.order_by("min_bottles"))
    url = reverse("admin:shop_shippingzone_change", args=[zone.pk])
    data = zone_form(name=zone.name, areas=[], bands=[])
    data |= {
        "areas-TOTAL_FORMS": 1,
        "areas-INITIAL_FORMS": 1,
        "areas-0-id": zone.areas.get().pk,
        "areas-0-zone": zone.pk,
        "areas-0-destination": zone.areas.get().destination_id,
        "rates-TOTAL_FORMS": 3,
        "rates-INITIAL_FORMS": 3,
    }
    for n, rate in enumerate(rates):
        data |= {
            f"rates-{n}-id": rate.pk,
            f"rates-{n}-zone": zone.pk,
            f"rates-{n}-min_bottles": rate.min_bottles,
            f"rates-{n}-max_bottles": rate.max_bottles,
            f"rates-{n}-price": rate.price,
        }

    # Deleting the middle band leaves a gap.
    response = admin_client.post(url, data | {"rates-1-DELETE": "on"})
    assert response.status_code == 200
    assert "Bands 1–6 and 13–24 leave a gap" in page(response)
    assert zone.rates.count() == 3

    # Deleting the last band leaves bands one after another.
    response = admin_client.post(url, data | {"rates-2-DELETE": "on"})
    assert response.status_code == 302
    assert list(zone.rates.values_list("max_bottles", flat=True)) == [6, 12]


def test_destination_list_shows_names_vat_as_percent_and_age(admin_client):
    response = admin_client.get(DESTINATIONS)
    text = page(response)

    assert "France (FR)" in text and "20 %" in text
    assert "Finland (FI)" in text and "25.5 %" in text
    assert "United States (US)" in text and "0 %" in text


@pytest.mark.parametrize(
    ("term", "countries"),
    [
        ("GERM", {"DE"}),
        ("de", {"DE", "DK", "SE"}),
        ("lu", {"LU"}),
        ("switz", {"CH"}),
        ("king", {"GB"}),
        ("zz", set()),
    ],
)
def test_destinations_are_found_by_code_or_name(admin_client, term, countries):
    response = admin_client.get(DESTINATIONS, {"q": term})

    found = {d.country for d in response.context["cl"].result_list}
    assert found == countries


def test_destination_form_says_the_seeded_rates_are_defaults(admin_client):
    destination = Destination.objects.get(country="DE")
    url = reverse("admin:shop_destination_change", args=[destination.pk])

    assert "confirm them with your accountant" in page(admin_client.get(url))
    response = admin_client.post(url, {"vat_rate": "0.07", "minimum_age": "16"})

    assert response.status_code == 302
    destination.refresh_from_db()
    assert (destination.country, destination.vat_rate, destination.minimum_age) == (
        "DE",
        Decimal("0.0700"),
        16,
    )
    response = admin_client.post(url, {"vat_rate": "20", "minimum_age": "16"})
    assert "Ensure that there are no more than 1 digit before the decimal point." in page(response)
    response = admin_client.post(url, {"vat_rate": "0.6", "minimum_age": "16"})
    assert "Ensure this value is less than or equal to 0.5." in page(response)
    assert Destination.objects.get(country="DE").vat_rate == Decimal("0.0700")


def test_zone_areas_pick_their_country_by_name(admin_client):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "shop",
            "model_name": "zonearea",
            "field_name": "destination",
            "term": "switz",
        },
    )

    assert [r["text"] for r in response.json()["results"]] == ["Switzerland"]


def test_merchants_change_zones_and_operations_cant(client, role_member):
    zone = delivery_zones()["Corsica"]
    url = reverse("admin:shop_shippingzone_change", args=[zone.pk])

    client.force_login(role_member("Merchants"))
    assert client.get(url).status_code == 200
    assert client.get(ADD_ZONE).status_code == 200
    client.post(url, {"name": "Corse", "active": "on", **zone_form(name="Corse")})
    assert ShippingZone.objects.filter(name="Corse").exists()

    client.force_login(role_member("Operations"))
    for address in (url, ADD_ZONE, ZONES, DESTINATIONS):
        assert client.get(address).status_code == 403
    assert client.post(url, zone_form(name="Hacked")).status_code == 403
    assert not ShippingZone.objects.filter(name="Hacked").exists()


def test_zones_are_found_accents_and_case_aside(admin_client):
    reunion = ShippingZone.objects.create(name="Outre-mer : La Réunion")
    ShippingZone.objects.create(name="Benelux")

    response = admin_client.get(ZONES, {"q": "REUNION"})

    assert list(response.context["cl"].result_list) == [reunion]


def test_destinations_are_found_by_name_accents_and_case_aside(admin_client):
    Destination.objects.get_or_create(country="DE")
    Destination.objects.get_or_create(country="FR")

    response = admin_client.get(DESTINATIONS, {"q": "germány"})

    assert [d.country for d in response.context["cl"].result_list] == ["DE"]
