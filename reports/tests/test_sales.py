import csv
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from orders.models import Refund
from orders.refunds import RefundLineRequest, refund_request, refund_succeed
from reports.models import Report
from reports.sales import CSV_HEADER, sales_csv, sales_pdf
from reports.selectors import SalesSummary
from reports.tests.factories import DAY, at, german_order, one_day, paid_order, refunded
from shop.delivery.models import DeliveryMethod
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db


def test_csv_lists_every_section_and_never_runs_a_formula():
    paid_order(
        [('=HYPERLINK("http://evil")', Decimal("10.00"), 1)],
        coupon_code="+SUMME",
        discount=Decimal("1.00"),
        paid_at=at(DAY, 9),
    )
    content = sales_csv(one_day()).decode()
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))
    assert rows[0] == CSV_HEADER
    assert ["total", "all sales", "1", "1", "9.00", "1.00", "", ""] in rows
    assert {row[0] for row in rows[1:]} >= {"period", "total", "day", "wine", "category", "coupon"}
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert ["coupon", "'+SUMME", "1", "", "9.00", "1.00", "", ""] in rows


def refunded_that_day() -> SalesSummary:
    """Return the day's summary after one of three bottles is refunded and restocked."""
    order = paid_order(
        [("Château Lagrézette Cahors", Decimal("20.00"), 3)],
        wines=[WineFactory(stock=0)],
        paid_at=at(DAY, 9),
    )
    refund = refund_request(
        order_id=order.pk,
        lines=[RefundLineRequest(item_id=order.items.get().pk, quantity=1, restock=True)],
        reason="Returned",
        actor=None,
    )
    refund_succeed(refund_id=refund.pk, stripe_refund_id="re_returned")
    Refund.objects.filter(pk=refund.pk).update(succeeded_at=at(DAY, 17))
    return one_day()


def test_csv_has_the_refunds_and_net_revenue():
    rows = list(csv.reader(io.StringIO(sales_csv(refunded_that_day()).decode().lstrip("\ufeff"))))
    assert ["total", "all sales", "1", "2", "40.00", "0.00", "", ""] in rows
    assert ["refunds", "refunds", "1", "", "20.00", "", "", ""] in rows
    assert ["refunds", "bottles restocked", "", "1", "", "", "", ""] in rows
    assert [row for row in rows if row[0] == "day"] == [
        ["day", "2026-03-14", "1", "", "40.00", "", "", ""]
    ]


def test_pdf_has_a_refunds_section_and_net_revenue():
    report = Report(kind=Report.Kind.DAY, start=DAY)
    content = sales_pdf(report, refunded_that_day())
    page = " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split()
    )
    assert "Orders Revenue Average order Bottles Coupon discounts 1 €40.00 €40.00 2" in page
    assert "Refunds Amount refunded Bottles restocked 1 €20.00 1" in page
    assert "net of refunds" in page


def delivered_abroad() -> SalesSummary:
    """Return the day's summary of an order to Germany (50.00 of wine, 9.90 delivery, 19 %), one
    collected in France (25.00, 20 %) and a refund of 11.90 of the German order."""
    order = german_order(paid_at=at(DAY, 9))
    paid_order(
        [("Cahors", Decimal("25.00"), 1)],
        delivery_method=DeliveryMethod.COLLECT,
        paid_at=at(DAY, 10),
    )
    refund = refunded(order, amount=Decimal("11.90"))
    Refund.objects.filter(pk=refund.pk).update(succeeded_at=at(DAY, 17))
    return one_day()


def test_pdf_shows_delivery_income_apart_and_vat_by_country_and_rate():
    report = Report(kind=Report.Kind.DAY, start=DAY)
    text = " ".join(
        " ".join(
            page.extract_text()
            for page in PdfReader(io.BytesIO(sales_pdf(report, delivered_abroad()))).pages
        ).split()
    )
    assert "Wine sales Delivery income Refunds Net revenue €75.00 €9.90 −€11.90 €73.00" in text
    assert (
        "VAT by country and rate Country VAT rate Orders Sales incl. VAT VAT Excl. VAT Refunded "
        "VAT refunded "
        "France 20 % 1 €25.00 €4.17 €20.83 €0.00 €0.00 "
        "Germany 19 % 1 €59.90 €9.56 €50.34 €11.90 €1.90"
    ) in text  # 7.98 on the wine and 1.58 on the delivery, as the invoice says


def test_pdf_of_the_day_to_look_at(tmp_path_factory):
    report = Report(kind=Report.Kind.DAY, start=DAY)
    content = sales_pdf(report, delivered_abroad())
    (tmp_path_factory.getbasetemp() / "sales.pdf").write_bytes(content)


def test_csv_has_revenue_by_wine_and_delivery_and_vat_by_country_and_rate():
    content = sales_csv(delivered_abroad()).decode().lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(content)))
    assert CSV_HEADER[-2:] == ["vat", "excluding_vat"]
    assert all(len(row) == len(CSV_HEADER) for row in rows)
    assert [row for row in rows if row[0] in {"revenue", "vat", "vat refunds"}] == [
        ["revenue", "wine sales", "2", "", "75.00", "0.00", "", ""],
        ["revenue", "delivery income", "", "", "9.90", "", "", ""],
        ["revenue", "refunds", "1", "", "11.90", "", "", ""],
        ["revenue", "net revenue", "", "", "73.00", "", "", ""],
        ["vat", "France 20 %", "1", "", "25.00", "", "4.17", "20.83"],
        ["vat", "Germany 19 %", "1", "", "59.90", "", "9.56", "50.34"],
        ["vat refunds", "Germany 19 %", "", "", "11.90", "", "1.90", "10.00"],
    ]
