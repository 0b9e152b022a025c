"""The invoice PDF: seller, customer, one line per bottle sold, coupon, VAT, total paid."""

from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from reportlab.lib.units import mm
from reportlab.platypus import Spacer, Table, TableStyle

from core.money import money_format, quantize
from reports.pdf import (
    BOLD,
    FONT,
    MUTED,
    RULE,
    WINE,
    build,
    percent,
    style,
    table_style,
    text,
)

HEADER = ["Wine", "Vintage", "SKU", "Qty", "Unit price", "Line total"]
WIDTHS = [72 * mm, 16 * mm, 26 * mm, 12 * mm, 24 * mm, 24 * mm]


def vat_included(total: Decimal, rate: Decimal) -> Decimal:
    """Return the VAT contained in a VAT-inclusive total."""
    return quantize(total * rate / (1 + rate))


def _seller() -> list:
    lines = [text(settings.SHOP_LEGAL_NAME, style("seller", size=15, bold=True))]
    details = [*settings.SHOP_ADDRESS]
    if settings.SHOP_INVOICE_EMAIL:
        details.append(settings.SHOP_INVOICE_EMAIL)
    if settings.SHOP_VAT_NUMBER:
        details.append(f"VAT number: {settings.SHOP_VAT_NUMBER}")
    if settings.SHOP_COMPANY_NUMBER:
        details.append(settings.SHOP_COMPANY_NUMBER)
    return lines + [text(line, style("seller-line", textColor=MUTED)) for line in details]


def _facts(invoice, order) -> Table:
    issued = timezone.localtime(invoice.issued_at)
    paid = timezone.localtime(order.paid_at) if order.paid_at else None
    rows = [
        [text("INVOICE", style("title", size=18, bold=True, textColor=WINE)), ""],
        ["Invoice number", invoice.number],
        ["Invoice date", f"{issued:%d %B %Y}"],
        ["Order", order.number],
        ["Paid on", f"{paid:%d %B %Y}" if paid else "—"],
    ]
    table = Table(rows, colWidths=[30 * mm, 42 * mm])
    table.setStyle(
        TableStyle(
            [
                ("SPAN", (0, 0), (1, 0)),
                ("FONT", (0, 1), (0, -1), FONT, 8.5),
                ("TEXTCOLOR", (0, 1), (0, -1), MUTED),
                ("FONT", (1, 1), (1, -1), BOLD, 8.5),
                ("ALIGN", (1, 1), (1, -1), "RIGHT"),
                ("BOTTOMPADDING", (0, 0), (-1, 0), 8),
            ]
        )
    )
    return table


def _customer(order) -> list:
    lines = [order.customer_name, order.address, f"{order.postal_code} {order.city}", order.email]
    return [text("Billed to", style("label", size=8, textColor=MUTED))] + [
        text(line, style("customer", size=10, bold=index == 0)) for index, line in enumerate(lines)
    ]


def _totals(order) -> Table:
    rate = settings.VAT_RATE
    rows = [["Subtotal", money_format(order.subtotal)]]
    if order.discount:
        coupon = f"Coupon {order.coupon_code}" if order.coupon_code else "Discount"
        rows.append([coupon, money_format(-order.discount)])
    rows.append(["Total paid", money_format(order.total)])
    rows.append([f"of which VAT {percent(rate)}", money_format(vat_included(order.total, rate))])
    rows.append(
        ["Total excluding VAT", money_format(order.total - vat_included(order.total, rate))]
    )
    paid_row = len(rows) - 3
    table = Table(rows, colWidths=[50 * mm, 30 * mm], hAlign="RIGHT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 9),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("FONT", (0, paid_row), (-1, paid_row), BOLD, 11),
                ("TEXTCOLOR", (0, paid_row), (-1, paid_row), WINE),
                ("LINEABOVE", (0, paid_row), (-1, paid_row), 0.8, WINE),
                ("TEXTCOLOR", (0, paid_row + 1), (-1, -1), MUTED),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def invoice_pdf(invoice, order, items) -> bytes:
    """Return the PDF of an invoice for the order and its items (OrderItem rows)."""
    cell = style("cell", size=8.5)
    lines = [
        [
            text(item.wine_name, cell),
            str(item.vintage or "NV"),
            item.sku,
            str(item.quantity),
            money_format(item.unit_price),
            money_format(item.line_total),
        ]
        for item in items
    ]
    table = Table([HEADER, *lines], colWidths=WIDTHS, repeatRows=1)
    table.setStyle(table_style(numeric_from=3))
    heading = Table([[_seller(), _facts(invoice, order)]], colWidths=[102 * mm, 72 * mm])
    heading.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    rule = Table([[""]], colWidths=[174 * mm], rowHeights=[1])
    rule.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.5, RULE)]))
    note = (
        f"Prices include VAT at {percent(settings.VAT_RATE)}. "
        f"Amounts in {order.currency}. Thank you for your order."
    )
    story = [
        heading,
        Spacer(1, 6 * mm),
        rule,
        Spacer(1, 4 * mm),
        *_customer(order),
        Spacer(1, 8 * mm),
        table,
        Spacer(1, 5 * mm),
        _totals(order),
        Spacer(1, 8 * mm),
        text(note, style("note", size=8, textColor=MUTED)),
    ]
    return build(
        story,
        title=f"Invoice {invoice.number}",
        footer=f"{settings.SHOP_LEGAL_NAME} · Invoice {invoice.number} · Order {order.number}",
    )
