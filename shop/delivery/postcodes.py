"""Postal codes checked the way each country writes them, and written that way on the order."""

import re

from shop.exceptions import DeliveryRefused

# The countries whose format the shop knows; any other takes 2 to 10 letters, digits, spaces
# or hyphens. (Full-match patterns on the code in upper case with single spaces.)
FORMATS = {
    "AT": (r"\d{4}", "4 digits, e.g. 1010"),
    "BE": (r"\d{4}", "4 digits, e.g. 1000"),
    "CH": (r"\d{4}", "4 digits, e.g. 8001"),
    "CZ": (r"\d{3} ?\d{2}", "5 digits, e.g. 110 00"),
    "DE": (r"\d{5}", "5 digits, e.g. 10115"),
    "DK": (r"\d{4}", "4 digits, e.g. 1050"),
    "ES": (r"(0[1-9]|[1-4]\d|5[0-2])\d{3}", "5 digits, e.g. 28001"),
    "FI": (r"\d{5}", "5 digits, e.g. 00100"),
    "FR": (r"\d{5}", "5 digits, e.g. 33000"),
    "GB": (
        r"(GIR 0AA|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})",
        "a UK postcode, e.g. SW1A 1AA",
    ),
    "GR": (r"\d{3} ?\d{2}", "5 digits, e.g. 105 57"),
    "IE": (r"([AC-FHKNPRTV-Y]\d{2}|D6W) ?[\dAC-FHKNPRTV-Y]{4}", "an Eircode, e.g. D02 X285"),
    "IT": (r"\d{5}", "5 digits, e.g. 00184"),
    "LU": (r"(L-)?\d{4}", "4 digits, e.g. 1111"),
    "MC": (r"980\d{2}", "5 digits starting with 980, e.g. 98000"),
    "NL": (r"[1-9]\d{3} ?[A-Z]{2}", "4 digits and 2 letters, e.g. 1012 AB"),
    "NO": (r"\d{4}", "4 digits, e.g. 0150"),
    "PL": (r"\d{2}-\d{3}", "2 digits, a hyphen and 3 digits, e.g. 00-950"),
    "PT": (r"\d{4}-\d{3}", "4 digits, a hyphen and 3 digits, e.g. 1100-148"),
    "SE": (r"\d{3} ?\d{2}", "5 digits, e.g. 111 22"),
    "US": (r"\d{5}(-\d{4})?", "a ZIP code, e.g. 10001 or 10001-0001"),
}
GENERIC = re.compile(r"[A-Z0-9][A-Z0-9 -]{0,8}[A-Z0-9]")


def postal_code_clean(country: str, postal_code: str) -> str:
    """Return the postal code in upper case with single spaces, or raise DeliveryRefused."""
    code = " ".join(str(postal_code).upper().split())
    known = FORMATS.get(country)
    if known is None:
        if GENERIC.fullmatch(code):
            return code
        raise DeliveryRefused("Enter a postal code: 2 to 10 letters, digits, spaces or hyphens.")
    pattern, example = known
    # ASCII digits only: \d alone takes any script's digits, which no carrier reads.
    if not re.fullmatch(pattern, code, re.ASCII):
        raise DeliveryRefused(f"Enter the postal code as {example}.")
    return code.removeprefix("L-") if country == "LU" else code


def postal_code_key(postal_code: str) -> str:
    """Return the postal code as zone prefixes are compared with it: no spaces or hyphens."""
    return re.sub(r"[\s-]", "", postal_code.upper())
