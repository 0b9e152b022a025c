"""Money helpers: every amount is a Decimal rounded here, half up, to the currency's cents."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def quantize(amount: Decimal | int | str) -> Decimal:
    """Return the amount rounded half up to cents."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


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
