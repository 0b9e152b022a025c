from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from orders.models import Order
from orders.tests.factories import OrderFactory
from reports.models import Invoice, Report
from reports.tests.factories import ACCENTED_WINES, paid_order
from reports.tests.pdf import pdf_text

pytestmark = pytest.mark.django_db


def test_invoice_command_writes_the_pdf_once_numbered(tmp_path):
    order = paid_order([(ACCENTED_WINES[0], Decimal("19.00"), 1)])
    out = StringIO()
    call_command("invoice", order.number, "--output", str(tmp_path / "a.pdf"), stdout=out)
    call_command("invoice", order.number, "--regenerate", stdout=out)
    number = Invoice.objects.get().number
    assert out.getvalue().splitlines() == [f"{number} written to {tmp_path / 'a.pdf'}", number]
    assert ACCENTED_WINES[0] in pdf_text((tmp_path / "a.pdf").read_bytes())


def test_invoice_command_refuses_unknown_and_unpaid_orders():
    with pytest.raises(CommandError, match="No order"):
        call_command("invoice", "WS-NONE")
    pending = OrderFactory(status=Order.Status.PENDING)
    with pytest.raises(CommandError, match="has not been paid"):
        call_command("invoice", pending.number)


def test_sales_report_command_builds_and_writes_both_files(tmp_path):
    out = StringIO()
    call_command(
        "sales_report",
        "--period",
        "week",
        "--date",
        "2026-03-11",
        "--output-dir",
        str(tmp_path),
        stdout=out,
    )
    report = Report.objects.get()
    assert (report.status, str(report.start)) == ("done", "2026-03-09")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "sales-week-2026-03-09.csv",
        "sales-week-2026-03-09.pdf",
    ]
    with pytest.raises(CommandError, match="between 2000 and today"):
        call_command("sales_report", "--date", "2999-01-01")
