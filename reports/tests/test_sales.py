import csv
import io
from decimal import Decimal

import pytest

from reports.sales import CSV_HEADER, sales_csv
from reports.tests.factories import DAY, at, one_day, paid_order

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
