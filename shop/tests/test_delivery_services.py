import pytest

from shop.delivery.services import shipping_rates_check
from shop.exceptions import ShippingRatesInvalid


@pytest.mark.parametrize(
    "bands",
    [
        [],
        [(1, 1)],
        [(1, 6), (7, 12), (13, 24)],
        [(13, 24), (1, 6), (7, 12)],
        [(1, 1), (2, 2), (3, 120)],
    ],
)
def test_bands_one_after_another_from_one_are_accepted(bands):
    shipping_rates_check(bands=bands)


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ([(2, 6)], "The first band must start at 1 bottle, not at 2."),
        ([(7, 12), (0, 6)], "The first band must start at 1 bottle, not at 0."),
        ([(1, 6), (6, 12)], "Bands 1–6 and 6–12 overlap."),
        ([(1, 12), (7, 24)], "Bands 1–12 and 7–24 overlap."),
        ([(1, 6), (1, 12)], "Bands 1–6 and 1–12 overlap."),
        (
            [(1, 6), (8, 12)],
            "Bands 1–6 and 8–12 leave a gap: an order of 7 bottles would have no price.",
        ),
        (
            [(1, 6), (13, 24)],
            "Bands 1–6 and 13–24 leave a gap: orders of 7–12 bottles would have no price.",
        ),
        (
            [(1, 6), (9, 7)],
            "Band 9–7 ends before it starts. Bands 1–6 and 9–7 leave a gap: "
            "orders of 7–8 bottles would have no price.",
        ),
        (
            [(2, 6), (6, 12), (14, 24)],
            "The first band must start at 1 bottle, not at 2. Bands 2–6 and 6–12 overlap. "
            "Bands 6–12 and 14–24 leave a gap: an order of 13 bottles would have no price.",
        ),
    ],
)
def test_bands_that_overlap_leave_gaps_or_start_late_are_refused_naming_them(bands, message):
    with pytest.raises(ShippingRatesInvalid) as refusal:
        shipping_rates_check(bands=bands)
    assert str(refusal.value) == message
