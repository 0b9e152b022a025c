"""Countries the shop can deliver to, and the defaults their Destination rows are seeded with.

The VAT rates are the EU member states' standard rates in force in 2026; a destination outside
the EU gets 0 (an export: the buyer pays that country's taxes on import). They are defaults a
merchant confirms with their accountant, then keeps in the admin. Minimum ages are the age at
which wine may be bought where it is higher than 18; 18 everywhere else.
"""

from decimal import Decimal

from django.conf import settings

EU_VAT_RATES = {
    "AT": Decimal("0.20"),
    "BE": Decimal("0.21"),
    "BG": Decimal("0.20"),
    "CY": Decimal("0.19"),
    "CZ": Decimal("0.21"),
    "DE": Decimal("0.19"),
    "DK": Decimal("0.25"),
    "EE": Decimal("0.24"),
    "ES": Decimal("0.21"),
    "FI": Decimal("0.255"),
    "FR": Decimal("0.20"),
    "GR": Decimal("0.24"),
    "HR": Decimal("0.25"),
    "HU": Decimal("0.27"),
    "IE": Decimal("0.23"),
    "IT": Decimal("0.22"),
    "LT": Decimal("0.21"),
    "LU": Decimal("0.17"),
    "LV": Decimal("0.21"),
    "MT": Decimal("0.18"),
    "NL": Decimal("0.21"),
    "PL": Decimal("0.23"),
    "PT": Decimal("0.23"),
    "RO": Decimal("0.21"),
    "SE": Decimal("0.25"),
    "SI": Decimal("0.22"),
    "SK": Decimal("0.23"),
}

COUNTRY_NAMES = {
    "AT": "Austria",
    "AU": "Australia",
    "BE": "Belgium",
    "BG": "Bulgaria",
    "CA": "Canada",
    "CH": "Switzerland",
    "CY": "Cyprus",
    "CZ": "Czechia",
    "DE": "Germany",
    "DK": "Denmark",
    "EE": "Estonia",
    "ES": "Spain",
    "FI": "Finland",
    "FR": "France",
    "GB": "United Kingdom",
    "GR": "Greece",
    "HK": "Hong Kong",
    "HR": "Croatia",
    "HU": "Hungary",
    "IE": "Ireland",
    "IS": "Iceland",
    "IT": "Italy",
    "JP": "Japan",
    "LI": "Liechtenstein",
    "LT": "Lithuania",
    "LU": "Luxembourg",
    "LV": "Latvia",
    "MC": "Monaco",
    "MT": "Malta",
    "NL": "Netherlands",
    "NO": "Norway",
    "NZ": "New Zealand",
    "PL": "Poland",
    "PT": "Portugal",
    "RO": "Romania",
    "SE": "Sweden",
    "SG": "Singapore",
    "SI": "Slovenia",
    "SK": "Slovakia",
    "US": "United States",
}

COUNTRY_CHOICES = sorted(COUNTRY_NAMES.items(), key=lambda pair: pair[1])

# Monaco is in France's VAT territory.
VAT_RATES = {code: EU_VAT_RATES.get(code, Decimal("0")) for code in COUNTRY_NAMES} | {
    "MC": EU_VAT_RATES["FR"]
}

DEFAULT_MINIMUM_AGE = 18
MINIMUM_AGES = {"US": 21, "JP": 20, "IS": 20}


def country_name(code: str) -> str:
    """Return the country's name, or its code when the shop doesn't know it."""
    return COUNTRY_NAMES.get(code, code)


def destination_defaults(code: str) -> dict:
    """Return the VAT rate and minimum age a country's Destination starts with."""
    home = code == settings.SHOP_COUNTRY
    return {
        "vat_rate": settings.VAT_RATE if home else VAT_RATES[code],
        "minimum_age": MINIMUM_AGES.get(code, DEFAULT_MINIMUM_AGE),
    }
