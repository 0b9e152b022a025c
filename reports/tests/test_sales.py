import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from orders.models import Order
from reports.exceptions import InvalidPeriod
from reports.models import Report
from reports.sales import CSV_HEADER, sales_csv
from reports.selectors import period_end, period_start, sales_summary
from reports.services import report_build, report_daily, report_request, report_retry
from reports.tests.factories import ACCENTED_WINES, paid_order
from reports.tests.pdf import pdf_text
from shop.tests.factories import CategoryFactory, CountryFactory, RegionFactory, WineFactory

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 3, 14)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


def one_day(day: date = DAY):
    return sales_summary(start=day, end=period_end("day", day))


def test_periods_start_on_the_day_monday_or_first_of_the_month():
    assert period_start("day", DAY) == DAY
    assert period_start("week", DAY) == date(2026, 3, 9)  # a Saturday's Monday
    assert period_end("week", date(2026, 3, 9)) == date(2026, 3, 16)
    assert period_start("month", DAY) == date(2026, 3, 1)
    assert period_end("month", date(2026, 12, 1)) == date(2027, 1, 1)
    assert period_end("month", date(2024, 2, 1)) == date(2024, 3, 1)


def test_a_sale_counts_on_the_local_day_it_was_paid():
    paid_order(paid_at=at(DAY, 0, 5))  # 23:05 UTC the day before
    paid_order(paid_at=at(DAY, 23, 55))  # 22:55 UTC the same day
    paid_order(paid_at=at(date(2026, 3, 15), 0, 5))
    paid_order(paid_at=at(date(2026, 3, 13), 23, 55))
    assert one_day().orders == 2


def test_only_paid_and_shipped_orders_are_sales():
    for status in Order.Status.values:
        paid_order(status=status, paid_at=at(DAY, 12))
    summary = one_day()
    assert summary.orders == 2
    assert summary.revenue == Decimal("100.00")  # two orders of 2 bottles at 25.00


def test_summary_figures_categories_countries_and_coupons():
    red, white = CategoryFactory(name="Red"), CategoryFactory(name="White")
    france, spain = CountryFactory(name="France"), CountryFactory(name="Spain")
    lagrezette = WineFactory(category=red, region=RegionFactory(country=france))
    rodriguez = WineFactory(category=white, region=RegionFactory(country=spain))
    paid_order(
        [(ACCENTED_WINES[0], Decimal("30.00"), 2), (ACCENTED_WINES[1], Decimal("10.00"), 3)],
        wines=[lagrezette, rodriguez],
        coupon_code="PRINTEMPS",
        discount=Decimal("9.00"),
        paid_at=at(DAY, 10),
    )
    paid_order([(ACCENTED_WINES[0], Decimal("30.00"), 1)], wines=[lagrezette], paid_at=at(DAY, 11))
    paid_order([(ACCENTED_WINES[2], Decimal("50.00"), 1)], paid_at=at(DAY, 12))  # gone wine

    summary = one_day()

    assert (summary.orders, summary.units) == (3, 7)
    assert summary.revenue == Decimal("161.00")  # 60 + 30 - 9, 30, 50
    assert summary.discount == Decimal("9.00")
    assert summary.average_order == Decimal("53.67")
    assert [(w["wine_name"], w["units"], w["revenue"]) for w in summary.top_wines] == [
        (ACCENTED_WINES[0], 3, Decimal("90.00")),
        (ACCENTED_WINES[2], 1, Decimal("50.00")),
        (ACCENTED_WINES[1], 3, Decimal("30.00")),
    ]
    assert [(c["name"], c["revenue"]) for c in summary.by_category] == [
        ("Red", Decimal("90.00")),
        ("unknown", Decimal("50.00")),
        ("White", Decimal("30.00")),
    ]
    assert [(c["name"], c["units"]) for c in summary.by_country] == [
        ("France", 3),
        ("unknown", 1),
        ("Spain", 3),
    ]
    assert summary.coupons == [
        {
            "coupon_code": "PRINTEMPS",
            "orders": 1,
            "discount": Decimal("9.00"),
            "revenue": Decimal("81.00"),
        }
    ]


def test_days_without_sales_are_in_the_daily_figures():
    paid_order(paid_at=at(date(2026, 3, 10), 9))
    summary = sales_summary(start=date(2026, 3, 9), end=date(2026, 3, 16))
    assert [row["orders"] for row in summary.by_day] == [0, 1, 0, 0, 0, 0, 0]
    assert summary.by_day[1]["revenue"] == Decimal("50.00")


def test_summary_takes_the_same_queries_whatever_the_sales(django_assert_num_queries):
    with django_assert_num_queries(7):
        one_day()
    for hour in range(10):
        paid_order(paid_at=at(DAY, hour), coupon_code=f"C{hour}", discount=Decimal("1.00"))
    with django_assert_num_queries(7):
        assert one_day().orders == 10


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


def test_report_periods_are_checked_and_start_on_their_first_day(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False):
        report = report_request(kind="month", start=DAY)
    assert (report.start, report.end, report.status) == (
        date(2026, 3, 1),
        date(2026, 4, 1),
        "queued",
    )
    with pytest.raises(InvalidPeriod):
        report_request(kind="year", start=DAY)
    with pytest.raises(InvalidPeriod):
        report_request(kind="day", start=date(2999, 1, 1))
    assert Report.objects.count() == 1


def test_a_requested_report_is_built_by_its_task_with_pdf_and_csv(
    django_capture_on_commit_callbacks, admin_user
):
    paid_order(
        [(ACCENTED_WINES[2], Decimal("42.00"), 2)],
        coupon_code="BAROLO5",
        discount=Decimal("5.00"),
        paid_at=at(DAY, 15),
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = report_request(kind="week", start=DAY, requested_by=admin_user)
    report.refresh_from_db()
    assert report.status == Report.Status.DONE
    assert report.started_at <= report.finished_at
    with report.pdf.open("rb") as handle:
        text = pdf_text(handle.read())
    for expected in [
        "sales report",
        "week of 09 March to 15 March 2026",
        ACCENTED_WINES[2],
        "79.00 €",
        "BAROLO5",
        "Revenue per day",
        "Revenue by category",
        "Page 1 of",
    ]:
        assert expected in text, expected
    with report.csv.open("rb") as handle:
        assert "Cordero di Montezemolo" in handle.read().decode()


def test_building_twice_keeps_the_first_files():
    report = Report.objects.create(kind="day", start=DAY)
    first = report_build(report_id=report.pk)
    second = report_build(report_id=report.pk)
    assert (second.pdf.name, second.csv.name) == (first.pdf.name, first.csv.name)
    assert second.finished_at == first.finished_at


def test_a_report_that_cannot_be_built_fails_with_its_reason(django_capture_on_commit_callbacks):
    report = Report.objects.create(kind="month", start=date(9999, 12, 1))
    built = report_build(report_id=report.pk)
    assert built.status == Report.Status.FAILED
    assert "OverflowError" in built.error
    assert not built.pdf
    assert report_retry(report_id=report.pk - 1000) is False
    with django_capture_on_commit_callbacks(execute=True):
        assert report_retry(report_id=report.pk) is True
    assert Report.objects.get(pk=report.pk).status == Report.Status.FAILED


def test_the_morning_report_goes_once_to_the_list_and_the_merchants(settings, django_user_model):
    settings.REPORT_EMAILS = ["accounts@example.com"]
    merchants = Group.objects.create(name="Merchants")
    for name, fields in {
        "ana": {"is_staff": True},
        "ben": {"is_staff": True, "is_active": False},
        "cy": {"is_staff": False},
    }.items():
        user = django_user_model.objects.create_user(name, f"{name}@example.com", "pw", **fields)
        user.groups.add(merchants)
    django_user_model.objects.create_user("dee", "dee@example.com", "pw", is_staff=True)
    paid_order(paid_at=at(DAY, 9))

    report = report_daily(day=DAY)
    again = report_daily(day=DAY)

    assert again.pk == report.pk
    assert report.status == Report.Status.DONE and report.emailed_at is not None
    [message] = mail.outbox
    assert sorted(message.to) == ["accounts@example.com", "ana@example.com"]
    assert [name for name, _, _ in message.attachments] == [
        "sales-day-2026-03-14.pdf",
        "sales-day-2026-03-14.csv",
    ]
    assert "Saturday 14 March 2026" in pdf_text(message.attachments[0][1])


def test_the_morning_report_is_built_for_yesterday(settings):
    settings.REPORT_EMAILS = []
    report = report_daily()
    assert report.start == timezone.localdate() - timedelta(days=1)
    assert report.kind == "day" and report.scheduled
    assert mail.outbox == []  # nobody to send it to


def test_a_report_requested_while_the_broker_is_away_waits_and_can_be_queued_again(
    django_capture_on_commit_callbacks,
):
    from backoffice.tests.workers import broker_away

    with broker_away(), django_capture_on_commit_callbacks(execute=True):
        report = report_request(kind="day", start=DAY)
    assert Report.objects.get(pk=report.pk).status == Report.Status.QUEUED
    with django_capture_on_commit_callbacks(execute=True):
        assert report_retry(report_id=report.pk) is True
    assert Report.objects.get(pk=report.pk).status == Report.Status.DONE
    assert report_retry(report_id=report.pk) is False


def test_the_morning_report_is_scheduled_at_half_past_six():
    from backoffice.schedule import JOBS, Daily

    [job] = [job for job in JOBS if job.task == "reports.tasks.report_daily"]
    assert job.when == Daily(hour=6, minute=30)
