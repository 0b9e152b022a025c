"""Countries the shop can deliver to, and the defaults their Destination rows are seeded with.

The VAT rates are the EU member states' standard rates in force in 2026; a destination outside
the EU gets 0 (an export: the buyer pays that country's taxes on import). They are defaults a
merchant confirms with their accountant, then keeps in the admin. Minimum ages are the age at
which wine may be bought where it is higher than 18; 18 everywhere else.
"""

from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext, gettext_lazy, gettext_noop

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

# In English, translated where they are shown (country_name, COUNTRY_CHOICES).
COUNTRY_NAMES = {
    "AT": gettext_noop("Austria"),
    "AU": gettext_noop("Australia"),
    "BE": gettext_noop("Belgium"),
    "BG": gettext_noop("Bulgaria"),
    "CA": gettext_noop("Canada"),
    "CH": gettext_noop("Switzerland"),
    "CY": gettext_noop("Cyprus"),
    "CZ": gettext_noop("Czechia"),
    "DE": gettext_noop("Germany"),
    "DK": gettext_noop("Denmark"),
    "EE": gettext_noop("Estonia"),
    "ES": gettext_noop("Spain"),
    "FI": gettext_noop("Finland"),
    "FR": gettext_noop("France"),
    "GB": gettext_noop("United Kingdom"),
    "GR": gettext_noop("Greece"),
    "HK": gettext_noop("Hong Kong"),
    "HR": gettext_noop("Croatia"),
    "HU": gettext_noop("Hungary"),
    "IE": gettext_noop("Ireland"),
    "IS": gettext_noop("Iceland"),
    "IT": gettext_noop("Italy"),
    "JP": gettext_noop("Japan"),
    "LI": gettext_noop("Liechtenstein"),
    "LT": gettext_noop("Lithuania"),
    "LU": gettext_noop("Luxembourg"),
    "LV": gettext_noop("Latvia"),
    "MC": gettext_noop("Monaco"),
    "MT": gettext_noop("Malta"),
    "NL": gettext_noop("Netherlands"),
    "NO": gettext_noop("Norway"),
    "NZ": gettext_noop("New Zealand"),
    "PL": gettext_noop("Poland"),
    "PT": gettext_noop("Portugal"),
    "RO": gettext_noop("Romania"),
    "SE": gettext_noop("Sweden"),
    "SG": gettext_noop("Singapore"),
    "SI": gettext_noop("Slovenia"),
    "SK": gettext_noop("Slovakia"),
    "US": gettext_noop("United States"),
}

COUNTRY_CHOICES = [
    (code, gettext_lazy(name)) for code, name in sorted(COUNTRY_NAMES.items(), key=lambda p: p[1])
]

# Monaco is in France's VAT territory.
VAT_RATES = {code: EU_VAT_RATES.get(code, Decimal("0")) for code in COUNTRY_NAMES} | {
    "MC": EU_VAT_RATES["FR"]
}

DEFAULT_MINIMUM_AGE = 18
MINIMUM_AGES = {"US": 21, "JP": 20, "IS": 20}


def country_name(code: str) -> str:
    """Return the country's name in the active language, or its code when the shop doesn't
    know it."""
    return gettext(COUNTRY_NAMES[code]) if code in COUNTRY_NAMES else code


def destination_defaults(code: str) -> dict:
    """Return the VAT rate and minimum age a country's Destination starts with."""
    home = code == settings.SHOP_COUNTRY
    return {
        "vat_rate": settings.VAT_RATE if home else VAT_RATES[code],
        "minimum_age": MINIMUM_AGES.get(code, DEFAULT_MINIMUM_AGE),
    }
