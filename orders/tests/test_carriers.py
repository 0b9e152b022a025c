import pytest
from django.utils import translation

from orders.carriers import (
    CARRIERS,
    carrier_by_name,
    carrier_name_clean,
    tracking_number_clean,
    tracking_url,
)
from orders.exceptions import InvalidShipment


@pytest.mark.parametrize(
    ("carrier", "number", "url"),
    [
        (
            "La Poste Colissimo",
            "6A12345678901",
            "https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901",
        ),
        (
            "Chronopost",
            "XY123456789FR",
            "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT=XY123456789FR",
        ),
        (
            "DHL Express",
            "1234567890",
            "https://www.dhl.com/global-en/home/tracking/tracking-express.html"
            "?submit=1&tracking-id=1234567890",
        ),
        ("UPS", "1Z999AA10123456784", "https://www.ups.com/track?tracknum=1Z999AA10123456784"),
        ("DPD", "01234567890123", "https://tracking.dpd.de/status/en_US/parcel/01234567890123"),
        ("GLS", "ZX12345", "https://gls-group.com/track/ZX12345"),
        (
            "Royal Mail",
            "AB123456789GB",
            "https://www.royalmail.com/track-your-item#/tracking-results/AB123456789GB",
        ),
        ("FedEx", "123456789012", "https://www.fedex.com/fedextrack/?trknbr=123456789012"),
    ],
)
def test_each_known_carrier_links_to_its_tracking_page(carrier, number, url):
    assert tracking_url(carrier, number) == url


@pytest.mark.parametrize(
    ("carrier", "url"),
    [
        (
            "DHL Express",
            "https://www.dhl.com/fr-fr/home/tracking/tracking-express.html"
            "?submit=1&tracking-id=1Z%20999",
        ),
        ("UPS", "https://www.ups.com/track?loc=fr_FR&tracknum=1Z%20999"),
        ("DPD", "https://tracking.dpd.de/status/fr_FR/parcel/1Z%20999"),
        (
            "Chronopost",
            "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT=1Z%20999",
        ),
        ("GLS", "https://gls-group.com/track/1Z%20999"),
    ],
)
def test_a_french_customer_follows_the_parcel_on_the_carrier_french_page(carrier, url):
    with translation.override("fr"):
        assert tracking_url(carrier, "1Z 999") == url


def test_every_carrier_pattern_has_one_place_for_the_number():
    patterns = [c.tracking_url for c in CARRIERS]
    patterns += [pattern for c in CARRIERS for pattern in c.localized.values()]
    assert all(pattern.count("{number}") == 1 for pattern in patterns)
    assert len({c.code for c in CARRIERS}) == len({c.name for c in CARRIERS}) == len(CARRIERS)


def test_spaces_in_a_tracking_number_are_quoted_in_the_link():
    assert (
        tracking_url("UPS", "1Z 999 AA-1") == "https://www.ups.com/track?tracknum=1Z%20999%20AA-1"
    )


@pytest.mark.parametrize(
    ("carrier", "number"),
    [("Coursier du quartier", "123"), ("", "123"), ("DHL Express", "")],
)
def test_no_link_for_an_unknown_carrier_or_without_a_number(carrier, number):
    assert tracking_url(carrier, number) == ""


def test_a_known_carrier_is_found_in_any_case_and_spelled_as_the_shop_does():
    assert carrier_by_name("  dhl   express ") == carrier_by_name("DHL Express")
    assert carrier_name_clean("  dhl   express ") == "DHL Express"
    assert carrier_name_clean(" Coursier\tdu quartier ") == "Coursier du quartier"
    assert carrier_name_clean("") == ""


def test_a_carrier_name_longer_than_the_field_is_refused():
    with pytest.raises(InvalidShipment, match="at most 50"):
        carrier_name_clean("x" * 51)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("  6A12345678901 ", "6A12345678901"),
        ("1Z 999 AA1", "1Z 999 AA1"),
        ("JJD-0001-2345", "JJD-0001-2345"),
        ("", ""),
        ("   ", ""),
        ("A" * 40, "A" * 40),
    ],
)
def test_a_tracking_number_is_kept_as_typed_without_surrounding_spaces(typed, kept):
    assert tracking_number_clean(typed) == kept


@pytest.mark.parametrize(
    "typed",
    [
        "A" * 41,
        "123/456",
        "<script>",
        "123\n456",
        "12\t34",
        "１２３",  # full-width digits: not what a carrier prints
        "ÉX123",
        "-123",
        "123 -",
        "https://evil.test/?q=1",
    ],
)
def test_anything_but_letters_digits_spaces_and_hyphens_is_refused(typed):
    with pytest.raises(InvalidShipment):
        tracking_number_clean(typed)
