"""Money helpers: every amount is a Decimal rounded here, half up, to the currency's cents."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import translation

CENT = Decimal("0.01")


def quantize(amount: Decimal | int | str) -> Decimal:
    """Return the amount rounded half up to cents."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


# How each of the shop's languages writes an amount: where the symbol goes, the thousands
# separator and the decimal mark (CLDR: "1 234,50 €" in French, "€1,234.50" in English).
MONEY_STYLES = {
    "en": ("{symbol}{number}", ",", "."),
    "fr": ("{number}\u00a0{symbol}", "\u202f", ","),
}


def money_format(
    amount: Decimal | int | str | None, *, symbol: str | None = None, language: str | None = None
) -> str:
    """Return the amount as people read it, on pages, emails and PDFs: "€1,234.50", "1 234,50 €".

    language defaults to the active one (the page's, or the order's for emails and documents);
    symbol, when given, replaces the shop's (an issued document keeps the one it was issued with).
    """
    if amount is None or amount == "":
        return ""
    language = (language or translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    pattern, thousands, decimal_mark = MONEY_STYLES.get(language, MONEY_STYLES["en"])
    value = quantize(amount)
    digits = f"{abs(value):,.2f}".translate({ord(","): thousands, ord("."): decimal_mark})
    symbol = settings.SHOP_CURRENCY_SYMBOL if symbol is None else symbol
    if pattern.startswith("{symbol}") and symbol[-1:].isalpha():
        symbol += "\u00a0"  # "CHF 24.90", as "€24.90"
    shown = pattern.format(symbol=symbol, number=digits)
    return f"\u2212{shown}" if value < 0 else shown  # the minus sign, not a hyphen


def percent_of(amount: Decimal, percent: int | Decimal) -> Decimal:
    """Return percent % of amount, rounded half up to cents: the shop's one discount rule.

    33 % of 29.97 is 9.8901, so 9.89 off and 20.08 to pay; the discount never exceeds the amount.
    """
    return min(quantize(Decimal(amount) * Decimal(percent) / 100), quantize(amount))


# ISO 4217 currencies Stripe charges in whole units (https://docs.stripe.com/currencies).
ZERO_DECIMAL_CURRENCIES = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Return amount as the integer count of the currency's smallest unit, as Stripe wants it."""
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return int(Decimal(amount).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return int(quantize(amount) * 100)


def from_minor_units(amount: int, currency: str) -> Decimal:
    """Return an amount Stripe gave in the currency's smallest unit as a Decimal."""
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return Decimal(amount)
    return quantize(Decimal(amount) / 100)
