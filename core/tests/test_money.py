from decimal import Decimal

import pytest
from django.utils import translation

from core.money import from_minor_units, money_format, percent_of, quantize, to_minor_units


def test_amounts_round_half_up_to_cents():
    assert quantize("2.675") == Decimal("2.68")
    assert quantize("2.665") == Decimal("2.67")
    assert quantize(3) == Decimal("3.00")


@pytest.mark.parametrize(
    ("amount", "percent", "discount"),
    [
        ("29.97", 33, "9.89"),  # 9.8901
        ("0.01", 50, "0.01"),  # half a cent rounds up
        ("0.03", 50, "0.02"),  # 0.015
        ("10.05", 10, "1.01"),  # 1.005
        ("99.99", 100, "99.99"),
        ("12.34", 1, "0.12"),
    ],
)
def test_the_discount_rounds_half_up_to_cents(amount, percent, discount):
    assert percent_of(Decimal(amount), percent) == Decimal(discount)


def test_the_discount_never_exceeds_the_amount():
    assert percent_of(Decimal("10.00"), 150) == Decimal("10.00")


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("25.80", "eur", 2580),
        ("25.80", "EUR", 2580),
        ("0.005", "eur", 1),
        ("1500", "jpy", 1500),
        ("1499.5", "JPY", 1500),
    ],
)
def test_stripe_amounts_are_in_the_currencys_smallest_unit(amount, currency, minor):
    assert to_minor_units(Decimal(amount), currency) == minor


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Decimal("1234.5"), "€1,234.50"),
        (Decimal("0.005"), "€0.01"),
        (Decimal("-15.5"), "\u2212€15.50"),
        (Decimal("1234567.891"), "€1,234,567.89"),
        (3000, "€3,000.00"),
        ("12", "€12.00"),
        (None, ""),
    ],
)
def test_amounts_are_printed_with_cents_thousands_and_the_currency_symbol(amount, shown):
    assert money_format(amount) == shown


@pytest.mark.parametrize(
    ("amount", "language", "shown"),
    [
        (Decimal("64.9"), "en", "€64.90"),
        (Decimal("64.9"), "fr", "64,90\u00a0€"),
        (Decimal("1234.5"), "fr", "1\u202f234,50\u00a0€"),
        (Decimal("-15.5"), "fr", "\u221215,50\u00a0€"),
        (Decimal("64.9"), "en-gb", "€64.90"),
        (Decimal("64.9"), "de", "€64.90"),  # a language the shop doesn't speak: English
    ],
)
def test_amounts_follow_the_language_they_are_read_in(amount, language, shown):
    assert money_format(amount, language=language) == shown
    with translation.override(language):
        assert money_format(amount) == shown


def test_an_issued_document_keeps_its_own_symbol():
    assert money_format(Decimal("9.5"), symbol="CHF", language="fr") == "9,50\u00a0CHF"
    assert money_format(Decimal("9.5"), symbol="CHF", language="en") == "CHF\u00a09.50"


@pytest.mark.parametrize(
    ("minor", "currency", "amount"),
    [(500, "eur", Decimal("5.00")), (1999, "EUR", Decimal("19.99")), (1500, "jpy", Decimal(1500))],
)
def test_stripe_amounts_come_back_as_decimals(minor, currency, amount):
    assert from_minor_units(minor, currency) == amount
    assert to_minor_units(from_minor_units(minor, currency), currency) == minor
