from itertools import pairwise

from shop.exceptions import ShippingRatesInvalid


def _band(band: tuple[int, int]) -> str:
    return f"{band[0]}–{band[1]}"


def shipping_rates_check(*, bands: list[tuple[int, int]]) -> None:
    """Raise ShippingRatesInvalid unless the (from, to) bottle bands run 1, 2, … one after another.

    Every number of bottles up to the largest band then has exactly one price; an empty list is a
    zone that serves no one yet.
    """
    problems = [f"Band {_band(b)} ends before it starts." for b in bands if b[1] < b[0]]
    ordered = sorted(bands)
    if ordered and ordered[0][0] != 1:
        problems.append(f"The first band must start at 1 bottle, not at {ordered[0][0]}.")
    for before, after in pairwise(ordered):
        if after[0] <= before[1]:
            problems.append(f"Bands {_band(before)} and {_band(after)} overlap.")
        elif after[0] > before[1] + 1:
            low, high = before[1] + 1, after[0] - 1
            orders = f"an order of {low}" if low == high else f"orders of {low}–{high}"
            problems.append(
                f"Bands {_band(before)} and {_band(after)} leave a gap: {orders} bottles would "
                "have no price."
            )
    if problems:
        raise ShippingRatesInvalid(" ".join(problems))
