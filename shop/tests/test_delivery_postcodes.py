import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.delivery.countries import COUNTRY_NAMES
from shop.delivery.postcodes import FORMATS, GENERIC, postal_code_clean, postal_code_key
from shop.exceptions import DeliveryRefused


@pytest.mark.parametrize(
    ("country", "typed", "written"),
    [
        ("FR", "33000", "33000"),
        ("FR", " 33000 ", "33000"),
        ("FR", "97100", "97100"),
        ("DE", "10115", "10115"),
        ("DE", "01067", "01067"),
        ("GB", "SW1A 1AA", "SW1A 1AA"),
        ("GB", "sw1a   1aa", "SW1A 1AA"),
        ("GB", "M1 1AE", "M1 1AE"),
        ("GB", "EC1A1BB", "EC1A1BB"),
        ("GB", "gir 0aa", "GIR 0AA"),
        ("NL", "1012 ab", "1012 AB"),
        ("NL", "1012AB", "1012AB"),
        ("PT", "1100-148", "1100-148"),
        ("US", "10001", "10001"),
        ("US", "10001-0001", "10001-0001"),
        ("IE", "D02 X285", "D02 X285"),
        ("IE", "d6w1234", "D6W1234"),
        ("LU", "L-1111", "1111"),
        ("LU", "l-2530", "2530"),
        ("LU", "1111", "1111"),
        # A country without a known format: letters, digits, spaces and hyphens.
        ("JP", "100-0001", "100-0001"),
        ("AU", "2000", "2000"),
    ],
)
def test_valid_postal_codes_are_written_the_way_the_country_writes_them(country, typed, written):
    assert postal_code_clean(country, typed) == written


@pytest.mark.parametrize(
    ("country", "typed", "message"),
    [
        ("FR", "3300", "Enter the postal code as 5 digits, e.g. 33000."),
        ("FR", "330000", "Enter the postal code as 5 digits, e.g. 33000."),
        ("FR", "33 000", "Enter the postal code as 5 digits, e.g. 33000."),
        ("FR", "ABCDE", "Enter the postal code as 5 digits, e.g. 33000."),
        # Digits of another script: no carrier reads them.
        ("FR", "٣٣٠٠٠", "Enter the postal code as 5 digits, e.g. 33000."),
        ("FR", "３３０００", "Enter the postal code as 5 digits, e.g. 33000."),
        ("FR", "", "Enter the postal code as 5 digits, e.g. 33000."),
        ("DE", "1011", "Enter the postal code as 5 digits, e.g. 10115."),
        ("DE", "10115\x00", "Enter the postal code as 5 digits, e.g. 10115."),
        ("GB", "SW1A", "Enter the postal code as a UK postcode, e.g. SW1A 1AA."),
        ("GB", "12345", "Enter the postal code as a UK postcode, e.g. SW1A 1AA."),
        ("NL", "0123 AB", "Enter the postal code as 4 digits and 2 letters, e.g. 1012 AB."),
        ("NL", "1012", "Enter the postal code as 4 digits and 2 letters, e.g. 1012 AB."),
        (
            "PT",
            "1100148",
            "Enter the postal code as 4 digits, a hyphen and 3 digits, e.g. 1100-148.",
        ),
        ("US", "1000", "Enter the postal code as a ZIP code, e.g. 10001 or 10001-0001."),
        ("US", "10001-01", "Enter the postal code as a ZIP code, e.g. 10001 or 10001-0001."),
        ("IE", "B02 X285", "Enter the postal code as an Eircode, e.g. D02 X285."),
        ("LU", "L-111", "Enter the postal code as 4 digits, e.g. 1111."),
        ("LU", "F-1111", "Enter the postal code as 4 digits, e.g. 1111."),
        ("JP", "1", "Enter a postal code: 2 to 10 letters, digits, spaces or hyphens."),
        ("JP", "100_0001", "Enter a postal code: 2 to 10 letters, digits, spaces or hyphens."),
        ("JP", "12345678901", "Enter a postal code: 2 to 10 letters, digits, spaces or hyphens."),
    ],
)
def test_postal_codes_of_another_shape_are_refused_saying_the_shape(country, typed, message):
    with pytest.raises(DeliveryRefused) as refusal:
        postal_code_clean(country, typed)
    assert str(refusal.value) == message


@pytest.mark.parametrize(
    ("code", "key"), [("SW1A 1AA", "SW1A1AA"), ("1100-148", "1100148"), ("d02 x285", "D02X285")]
)
def test_the_key_zone_prefixes_are_compared_with_has_no_spaces_or_hyphens(code, key):
    assert postal_code_key(code) == key


def matches_the_country(country: str, written: str) -> bool:
    known = FORMATS.get(country)
    if known is None:
        return GENERIC.fullmatch(written) is not None
    return re.fullmatch(known[0], written, re.ASCII) is not None


@given(
    country=st.sampled_from(sorted(COUNTRY_NAMES)),
    typed=st.one_of(
        st.text(max_size=30),
        st.from_regex(r"[0-9A-Za-z -]{0,14}", fullmatch=True),
        st.from_regex(r"\s*[0-9]{4,5}(-[0-9]{3,4})?\s*", fullmatch=True),
    ),
)
def test_any_text_is_written_in_the_country_format_or_refused(country, typed):
    try:
        written = postal_code_clean(country, typed)
    except DeliveryRefused:
        return
    assert matches_the_country(country, written), (country, typed, written)
    assert written.isascii()
    assert written == written.strip() and "  " not in written
