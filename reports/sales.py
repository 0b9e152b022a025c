"""The sales report as a PDF (with charts) and a CSV, and the email that carries them."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer, Table

from core.mail import email_context
from core.money import money_format
from core.spreadsheet import csv_text
from core.vat import percent
from reports.pdf import FONT, INK, MUTED, WINE, build, style, table_style, text
from reports.selectors import SalesSummary

CSV_HEADER = ["section", "name", "orders", "units", "revenue", "discount", "vat", "excluding_vat"]
CHART_WIDTH = 174 * mm


def period_title(kind: str, summary: SalesSummary) -> str:
    if kind == "day":
        return f"{summary.start:%A %d %B %Y}"
    if kind == "month":
        return f"{summary.start:%B %Y}"
    return f"week of {summary.start:%d %B} to {summary.last_day:%d %B %Y}"


def _bar_chart(title: str, labels: list[str], values: list[float], *, horizontal: bool):
    height = max(60 * mm, len(labels) * 7 * mm + 20 * mm) if horizontal else 70 * mm
    drawing = Drawing(CHART_WIDTH, height)
    chart = HorizontalBarChart() if horizontal else VerticalBarChart()
    chart.x, chart.y = (45 * mm, 8 * mm) if horizontal else (14 * mm, 14 * mm)
    chart.width = CHART_WIDTH - chart.x - 6 * mm
    chart.height = height - chart.y - 12 * mm
    chart.data = [values or [0]]
    chart.bars[0].fillColor = WINE
    chart.bars[0].strokeColor = None
    chart.categoryAxis.categoryNames = labels or [""]
    axis_labels = chart.categoryAxis.labels
    axis_labels.fontName, axis_labels.fontSize = FONT, 6.5
    if not horizontal and len(labels) > 10:
        axis_labels.angle, axis_labels.boxAnchor, axis_labels.dy = 90, "e", -2
    chart.valueAxis.labels.fontName, chart.valueAxis.labels.fontSize = FONT, 6.5
    # A day whose refunds outweigh its sales has a bar below zero.
    chart.valueAxis.valueMin = min(0, *values) if values else 0
    chart.valueAxis.forceZero = True
    if not any(values):
        chart.valueAxis.valueMax = 1
    drawing.add(chart)
    drawing.add(String(0, height - 5 * mm, title, fontName=FONT, fontSize=9, fillColor=INK))
    return drawing


def _table(header: list[str], rows: list[list], widths: list[float], numeric_from: int) -> Table:
    cell = style("cell", size=8.5)
    body = [[text(str(row[0]), cell), *row[1:]] for row in rows]
    table = Table([header, *body], colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(table_style(numeric_from=numeric_from))
    return table


def _section(title: str, table) -> KeepTogether:
    return KeepTogether([text(title, style("h2", size=11, bold=True)), Spacer(1, 2 * mm), table])


def sales_pdf(report, summary: SalesSummary) -> bytes:
    """Return the PDF of a report: key figures, revenue (wine, delivery, refunds, net), refunds,
    charts, wines, categories, countries, coupons, VAT by destination country and rate."""
    figures = [
        ["Orders", "Revenue", "Average order", "Bottles", "Coupon discounts"],
        [
            str(summary.orders),
            money_format(summary.revenue),
            money_format(summary.average_order),
            str(summary.units),
            money_format(summary.discount),
        ],
    ]
    key = Table(figures, colWidths=[CHART_WIDTH / 5] * 5)
    key.setStyle(table_style(numeric_from=0))
    story = [
        text(f"{settings.SHOP_NAME} sales report", style("h1", size=16, bold=True)),
        text(period_title(report.kind, summary), style("sub", size=11, textColor=WINE)),
        Spacer(1, 6 * mm),
        key,
        Spacer(1, 4 * mm),
        _section("Revenue", _revenue_table(summary)),
        Spacer(1, 4 * mm),
        _section("Refunds", _refunds_table(summary)),
        Spacer(1, 6 * mm),
    ]
    if len(summary.by_day) > 1:
        story.append(
            _bar_chart(
                f"Revenue per day ({settings.SHOP_CURRENCY})",
                [f"{row['day']:%d/%m}" for row in summary.by_day],
                [float(row["revenue"]) for row in summary.by_day],
                horizontal=False,
            )
        )
    categories = summary.by_category
    story += [
        _bar_chart(
            f"Revenue by category ({settings.SHOP_CURRENCY}, before coupon discounts)",
            [row["name"] for row in reversed(categories)],
            [float(row["revenue"]) for row in reversed(categories)],
            horizontal=True,
        ),
        Spacer(1, 4 * mm),
    ]
    rows_of = {
        "Top wines": (
            ["Wine", "Vintage", "Bottles", "Revenue"],
            [
                [r["wine_name"], r["vintage"] or "NV", r["units"], money_format(r["revenue"])]
                for r in summary.top_wines
            ],
            [100 * mm, 20 * mm, 24 * mm, 30 * mm],
            1,
        ),
        "Revenue by category": _named_rows(categories),
        "Revenue by country": _named_rows(summary.by_country),
        "Coupons": (
            ["Coupon", "Orders", "Discount", "Revenue"],
            [
                [
                    r["coupon_code"],
                    r["orders"],
                    money_format(r["discount"]),
                    money_format(r["revenue"]),
                ]
                for r in summary.coupons
            ],
            [90 * mm, 24 * mm, 30 * mm, 30 * mm],
            1,
        ),
        "VAT by country and rate": (
            [
                "Country",
                "VAT rate",
                "Orders",
                "Sales incl. VAT",
                "VAT",
                "Excl. VAT",
                "Refunded",
                "VAT refunded",
            ],
            [
                [
                    r["name"],
                    percent(r["rate"]),
                    r["orders"],
                    *(
                        money_format(r[name])
                        for name in ("sales", "vat", "excluding_vat", "refunded", "refunded_vat")
                    ),
                ]
                for r in summary.vat_by_country
            ],
            [24 * mm, 13 * mm, 16 * mm, 29 * mm, 20 * mm, 23 * mm, 21 * mm, 28 * mm],
            1,
        ),
    }
    for title, (header, rows, widths, numeric_from) in rows_of.items():
        if rows:
            story += [
                _section(title, _table(header, rows, widths, numeric_from)),
                Spacer(1, 5 * mm),
            ]
        else:
            story += [
                text(title, style("h2", size=11, bold=True)),
                text("None in this period.", style("none", textColor=MUTED)),
                Spacer(1, 5 * mm),
            ]
    made = timezone.localtime()
    story.append(
        text(
            f"Sales are orders paid or shipped, counted on the day they were paid "
            f"({settings.TIME_ZONE}); canceled and expired orders are left out. Revenue and "
            f"bottles are net of refunds, taken off on the day each refund succeeded, whatever "
            f"the day of the sale. Wine sales are what orders paid less their delivery (after "
            f"coupons); delivery income is their delivery charges; refunds are taken off whole. "
            f"Wine, category and country revenue is before coupon discounts. VAT is by country "
            f"of destination and the rate frozen on each order, each order's VAT as its invoice "
            f"states it; refunds contain VAT at their order's rate, as their credit notes state. "
            f"Made {made:%d %B %Y %H:%M}.",
            style("note", size=7.5, textColor=MUTED),
        )
    )
    return build(
        story,
        title=f"Sales report {period_title(report.kind, summary)}",
        footer=f"{settings.SHOP_NAME} · Sales report · {period_title(report.kind, summary)}",
    )


def _revenue_table(summary: SalesSummary) -> Table:
    table = Table(
        [
            ["Wine sales", "Delivery income", "Refunds", "Net revenue"],
            [
                money_format(summary.wine_sales),
                money_format(summary.delivery),
                money_format(-summary.refunded),
                money_format(summary.revenue),
            ],
        ],
        colWidths=[CHART_WIDTH / 4] * 4,
    )
    table.setStyle(table_style(numeric_from=0))
    return table


def _refunds_table(summary: SalesSummary) -> Table:
    table = Table(
        [
            ["Refunds", "Amount refunded", "Bottles restocked"],
            [str(summary.refunds), money_format(summary.refunded), str(summary.restocked)],
        ],
        colWidths=[CHART_WIDTH / 3] * 3,
    )
    table.setStyle(table_style(numeric_from=0))
    return table


def _named_rows(rows: list[dict]) -> tuple:
    return (
        ["Name", "Bottles", "Revenue"],
        [[r["name"], r["units"], money_format(r["revenue"])] for r in rows],
        [110 * mm, 30 * mm, 34 * mm],
        1,
    )


def csv_rows(summary: SalesSummary):
    """Yield the report's rows under CSV_HEADER: one section after the other. Revenue is net of
    the refunds that succeeded in the period, which the refunds rows count (orders is then the
    number of refunds, revenue the amount refunded). The revenue rows split it into wine sales,
    delivery income and refunds; the vat rows give, per destination country and rate, the
    sales (revenue, VAT included), the VAT they contain and the rest, and the vat refunds rows
    the same of the period's refunds."""
    for row in _csv_rows(summary):
        yield row + [""] * (len(CSV_HEADER) - len(row))


def _csv_rows(summary: SalesSummary):
    yield ["period", f"{summary.start:%Y-%m-%d} to {summary.last_day:%Y-%m-%d}"]
    yield ["total", "all sales", summary.orders, summary.units, summary.revenue, summary.discount]
    yield ["total", "average order", "", "", summary.average_order, ""]
    yield ["revenue", "wine sales", summary.orders, "", summary.wine_sales, summary.discount]
    yield ["revenue", "delivery income", "", "", summary.delivery, ""]
    yield ["revenue", "refunds", summary.refunds, "", summary.refunded, ""]
    yield ["revenue", "net revenue", "", "", summary.revenue, ""]
    yield ["refunds", "refunds", summary.refunds, "", summary.refunded, ""]
    yield ["refunds", "bottles restocked", "", summary.restocked, "", ""]
    for row in summary.by_day:
        yield ["day", f"{row['day']:%Y-%m-%d}", row["orders"], "", row["revenue"], ""]
    for row in summary.top_wines:
        name = f"{row['wine_name']} {row['vintage'] or 'NV'} ({row['sku']})"
        yield ["wine", name, "", row["units"], row["revenue"], ""]
    for section, rows in (("category", summary.by_category), ("country", summary.by_country)):
        for row in rows:
            yield [section, row["name"], "", row["units"], row["revenue"], ""]
    for row in summary.coupons:
        yield ["coupon", row["coupon_code"], row["orders"], "", row["revenue"], row["discount"]]
    for row in summary.vat_by_country:
        name = f"{row['name']} {percent(row['rate'])}"
        yield ["vat", name, row["orders"], "", row["sales"], "", row["vat"], row["excluding_vat"]]
        if row["refunded"]:
            excluding = row["refunded"] - row["refunded_vat"]
            yield ["vat refunds", name, "", "", row["refunded"], "", row["refunded_vat"], excluding]


def sales_csv(summary: SalesSummary) -> bytes:
    """Return the report as CSV in UTF-8 with a BOM, every cell safe for spreadsheets."""
    return csv_text(CSV_HEADER, csv_rows(summary)).encode()


def report_recipients() -> list[str]:
    """Return REPORT_EMAILS and the addresses of the active staff in the REPORT_GROUP group."""
    users = get_user_model().objects.filter(
        is_active=True, is_staff=True, groups__name=settings.REPORT_GROUP
    )
    group = users.exclude(email="").values_list("email", flat=True)
    return sorted({*settings.REPORT_EMAILS, *group})


def email_report(report) -> int:
    """Email the report's PDF and CSV to the merchants; return the number of recipients."""
    recipients = report_recipients()
    if not recipients:
        return 0
    context = {**email_context(), "report": report}
    # In the back office's language, as the admin the email links to.
    with translation.override(settings.ADMIN_LANGUAGE):
        message = EmailMultiAlternatives(
            subject=f"[{settings.SHOP_NAME}] Sales report: {report}",
            body=render_to_string("emails/sales_report.txt", context),
            to=recipients,
        )
        html = render_to_string("emails/sales_report.html", context)
    message.attach_alternative(html, "text/html")
    for file, extension, mimetype in (
        (report.pdf, "pdf", "application/pdf"),
        (report.csv, "csv", "text/csv"),
    ):
        with file.open("rb") as content:
            message.attach(report.filename(extension), content.read(), mimetype)
    message.send()
    return len(recipients)
