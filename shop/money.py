"""Money helpers: every amount is a Decimal rounded here, half up, to the currency's cents."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def quantize(amount: Decimal | int | str) -> Decimal:
    """Return the amount rounded half up to cents."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
