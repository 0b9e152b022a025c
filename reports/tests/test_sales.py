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
from reports.tests.factories import DAY, at, one_day, paid_order
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
    assert ["total", "all sales", "1", "1", "9.00", "1.00"] in rows
    assert {row[0] for row in rows[1:]} >= {"period", "total", "day", "wine", "category", "coupon"}
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert ["coupon", "'+SUMME", "1", "", "9.00", "1.00"] in rows


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
    assert ["total", "all sales", "1", "2", "40.00", "0.00"] in rows
    assert ["refunds", "refunds", "1", "", "20.00", ""] in rows
    assert ["refunds", "bottles restocked", "", "1", "", ""] in rows
    assert [row for row in rows if row[0] == "day"] == [["day", "2026-03-14", "1", "", "40.00", ""]]


def test_pdf_has_a_refunds_section_and_net_revenue():
    report = Report(kind=Report.Kind.DAY, start=DAY)
    content = sales_pdf(report, refunded_that_day())
    page = " ".join(PdfReader(io.BytesIO(content)).pages[0].extract_text().split())
    assert "Orders Revenue Average order Bottles Coupon discounts 1 40.00 € 40.00 € 2" in page
    assert "Refunds Amount refunded Bottles restocked 1 20.00 € 1" in page
    assert "net of refunds" in page
