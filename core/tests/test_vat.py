from decimal import Decimal

from core.totals import AmountLine, sale_totals
from core.vat import percent, sale_vat, vat_included


def test_rates_are_shown_as_percentages_without_trailing_zeros():
    assert percent(Decimal("0.20")) == "20 %"
    assert percent(Decimal("0.055")) == "5.5 %"
    assert percent(Decimal("0.0000")) == "0 %"


def test_vat_is_the_share_of_a_vat_inclusive_total():
    assert vat_included(Decimal("120.00"), Decimal("0.20")) == Decimal("20.00")
    assert vat_included(Decimal("279.45"), Decimal("0.20")) == Decimal("46.58")
    assert vat_included(Decimal("10.55"), Decimal("0.055")) == Decimal("0.55")


def test_a_sale_lists_wine_coupon_delivery_total_and_the_vat_it_includes():
    lines = sale_totals(
        subtotal=Decimal("352.30"),
        discount=Decimal("35.23"),
        coupon_code="WELCOME10",
        delivery_label="Delivery to Germany (European Union)",
        delivery_charge=Decimal("24.90"),
        total=Decimal("341.97"),
        vat_rate=Decimal("0.19"),
    )
    assert lines == [
        AmountLine("subtotal", "Wine", Decimal("352.30")),
        AmountLine("discount", "Coupon WELCOME10", Decimal("-35.23")),
        AmountLine("delivery", "Delivery to Germany (European Union)", Decimal("24.90")),
        AmountLine("total", "Total", Decimal("341.97")),
        # As the invoice rounds it: the wine's VAT and the delivery's, each on its own.
        AmountLine("vat", "incl. VAT 19 %", Decimal("54.60")),
    ]
    vat = sale_vat(total=Decimal("341.97"), delivery_charge=Decimal("24.90"), rate=Decimal("0.19"))
    assert vat == Decimal("50.62") + Decimal("3.98")


def test_free_delivery_is_a_line_and_an_unknown_one_is_not():
    common = {"subtotal": Decimal("10.00"), "discount": Decimal("0"), "coupon_code": ""}
    free = sale_totals(
        **common,
        delivery_label="Click & collect",
        delivery_charge=Decimal("0.00"),
        total=Decimal("10.00"),
        vat_rate=Decimal("0.20"),
    )
    assert [(line.kind, line.amount) for line in free] == [
        ("subtotal", Decimal("10.00")),
        ("delivery", None),
        ("total", Decimal("10.00")),
        ("vat", Decimal("1.67")),
    ]
    unknown = sale_totals(
        **common, delivery_label="", delivery_charge=None, total=Decimal("10.00"), vat_rate=None
    )
    assert [line.kind for line in unknown] == ["subtotal", "total"]
