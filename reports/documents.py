"""Issued documents: invoices, and later the credit notes that correct them.

A document says once what it says. When it is numbered, a snapshot of everything its page shows
is taken from the order and the shop's settings and stored with it; every PDF of it is drawn
from that snapshot alone, never from the order or the settings as they are later.

- The parts every document is made of: `Seller` (the "Reports and invoices" settings),
  `Customer` and `OrderRef` (the order), `Line` (a line of the order), `VatShare` (a rate and
  the VAT an amount contains); `seller_now`, `customer_of`, `order_ref`, `line_of`, `vat_share`
  take them.
- `snapshot_dump` and `snapshot_load`: a snapshot (a frozen dataclass of those parts) to JSON and
  back, amounts as exact decimal strings ("24.90"), days as ISO dates ("2026-03-14").
- `Document` and `document_pdf`: the one page layout. The seller beside the document's title and
  facts (its number and date, the order, the document it cites), the customer, the table of
  lines, the totals, a note and a footer; every amount in the snapshot's currency symbol.
"""

import dataclasses
import types
import typing
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

from core.money import money_format, quantize
from core.vat import vat_included
from reports.pdf import (
    BOLD,
    FONT,
    MUTED,
    RULE,
    WINE,
    Rows,
    TextLine,
    build,
    one_line,
    style,
    text,
)
from shop.delivery.countries import country_name
from shop.delivery.models import DeliveryMethod


def header() -> tuple[str, ...]:
    """Return the columns of a document's table of lines, in the active language."""
    return (_("Wine"), _("Vintage"), _("SKU"), _("Qty"), _("Unit price"), _("Line total"))


WIDTHS = [72 * mm, 16 * mm, 26 * mm, 12 * mm, 24 * mm, 24 * mm]
CELL_PADDING = 6  # reportlab's, left and right of every cell


@dataclass(frozen=True)
class Seller:
    legal_name: str
    address: tuple[str, ...]
    email: str
    vat_number: str
    company_number: str


@dataclass(frozen=True)
class Customer:
    name: str
    address: str
    postal_code: str
    city: str
    email: str
    # Documents issued before orders knew where they went have none of these: they print as
    # they always did.
    country: str = ""  # its name, as printed under the city
    phone: str = ""
    collected: bool = False  # click & collect: no address, collected at the shop


@dataclass(frozen=True)
class OrderRef:
    number: str
    placed_on: date
    paid_on: date | None


@dataclass(frozen=True)
class Line:
    sku: str
    wine_name: str
    vintage: int | None
    unit_price: Decimal
    quantity: int
    line_total: Decimal


@dataclass(frozen=True)
class VatShare:
    """A VAT rate and the VAT a VAT-inclusive amount contains at that rate."""

    rate: Decimal
    amount: Decimal
    on: str = ""  # what the amount is: "wine", "delivery"; "" on documents issued before


def seller_now() -> Seller:
    """Return the seller as the settings name it now."""
    return Seller(
        legal_name=settings.SHOP_LEGAL_NAME,
        address=tuple(settings.SHOP_ADDRESS),
        email=settings.SHOP_INVOICE_EMAIL,
        vat_number=settings.SHOP_VAT_NUMBER,
        company_number=settings.SHOP_COMPANY_NUMBER,
    )


def customer_of(order) -> Customer:
    return Customer(
        name=order.customer_name,
        address=order.address,
        postal_code=order.postal_code,
        city=order.city,
        email=order.email,
        country=country_name(order.country) if order.country else "",
        phone=order.phone,
        collected=order.delivery_method == DeliveryMethod.COLLECT,
    )


def _local_day(moment: datetime | None) -> date | None:
    return timezone.localdate(moment) if moment else None


def order_ref(order) -> OrderRef:
    return OrderRef(
        number=order.number,
        placed_on=_local_day(order.created),
        paid_on=_local_day(order.paid_at),
    )


# What a document shows of an order line (OrderItem): all line_of reads, so that a long order's
# lines can be read as plain rows rather than as models.
LINE_FIELDS = ("sku", "wine_name", "vintage", "unit_price", "quantity", "line_total")


def line_of(item) -> Line:
    """Return an order line (an OrderItem, or a row of its LINE_FIELDS) as sold."""
    return Line(
        sku=item.sku,
        wine_name=item.wine_name,
        vintage=item.vintage,
        unit_price=item.unit_price,
        quantity=item.quantity,
        line_total=item.line_total,
    )


def vat_share(total: Decimal, rate: Decimal, *, on: str = "") -> VatShare:
    return VatShare(rate=rate, amount=vat_included(total, rate), on=on)


def snapshot_dump(value):
    """Return a snapshot as JSON: dataclasses as objects, Decimal as its exact string, dates as
    ISO days."""
    return _dumper(type(value))(value)


class Snapshot:
    """What a numbered document shows, kept as JSON with it: invoices and credit notes."""

    def to_json(self) -> dict:
        return snapshot_dump(self)

    @classmethod
    def from_json(cls, data: dict):
        return snapshot_load(cls, data)


def snapshot_load(kind: type, data):
    """Return the snapshot of dataclass kind that snapshot_dump wrote as data."""
    return _loader(kind)(data)


# A snapshot holds hundreds of lines of one kind: the fields of each kind, and how to write
# and read each, are worked out once rather than for every line.


@cache
def _names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind))


@cache
def _dumper(kind: type):
    """Return the function that writes a value of kind as JSON."""
    if issubclass(kind, tuple | list):
        return _dump_items
    if issubclass(kind, Decimal):
        return str
    if issubclass(kind, date):
        return kind.isoformat
    if dataclasses.is_dataclass(kind):
        names = _names(kind)

        def dump(value):
            return {name: snapshot_dump(getattr(value, name)) for name in names}

        return dump
    return _as_is


def _dump_items(values) -> list:
    return [snapshot_dump(value) for value in values]


@cache
def _loader(kind: type):
    """Return the function that reads JSON data as a value of kind (None stays None)."""
    if typing.get_origin(kind) in (types.UnionType, typing.Union):  # X | None
        [kind] = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return _loader(kind)
    if typing.get_origin(kind) is tuple:
        item = _loader(typing.get_args(kind)[0])

        def read(data):
            return tuple(item(value) for value in data)

    elif dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        fields = tuple((name, _loader(hints[name])) for name in _names(kind))

        def read(data):
            # A field left out takes its default, or is refused.
            return kind(
                **{name: read_field(data[name]) for name, read_field in fields if name in data}
            )

    elif kind is Decimal:
        read = Decimal
    elif kind is date:
        read = date.fromisoformat
    else:
        return _as_is

    def load(data):
        return None if data is None else read(data)

    return load


def _as_is(data):
    return data


@dataclass(frozen=True)
class Total:
    label: str
    amount: Decimal
    # The amount the document is about ("Total paid"): large, in wine red; the rows after it
    # (what it contains) are muted.
    emphasis: bool = False


@dataclass(frozen=True)
class Document:
    """What an issued document's page shows, top to bottom."""

    kind: str  # "Invoice": its title (in capitals), the PDF's title and the footer
    number: str
    facts: tuple[tuple[str, str], ...]  # label and value under the title
    seller: Seller
    customer_label: str  # "Billed to"
    customer: Customer
    lines: tuple[Line, ...]
    totals: tuple[Total, ...]
    note: str
    reference: str  # what the footer names after the document ("Order WS-…")
    currency_symbol: str
    language: str  # blank: issued before documents had one, and printed as then
    header: tuple[str, ...] = ()  # the table's columns: header() when empty

    @classmethod
    def of(cls, snapshot: Snapshot, **layout) -> "Document":
        """Return the page of a numbered document: what every snapshot holds, plus layout."""
        return cls(
            number=snapshot.number,
            seller=snapshot.seller,
            customer=snapshot.customer,
            lines=snapshot.lines,
            reference=_("Order %(number)s") % {"number": snapshot.order.number},
            currency_symbol=snapshot.currency_symbol,
            language=snapshot.language,
            **layout,
        )


def long_date(value: date | None) -> str:
    """Return a day as documents print it, in the active language: "04 March 2026"."""
    return date_format(value, "d F Y") if value else "—"


def _amount(document: Document, amount: Decimal) -> str:
    """Return an amount as the document prints it: in its language, or as every document did
    before they had one ("1,045.00 €"), so that one drawn again reads as it always has."""
    if not document.language:
        return f"{quantize(amount):,.2f} {document.currency_symbol}"
    return money_format(amount, symbol=document.currency_symbol, language=document.language)


def _seller(seller: Seller) -> list:
    details = [*seller.address]
    if seller.email:
        details.append(seller.email)
    if seller.vat_number:
        details.append(_("VAT number: %(number)s") % {"number": seller.vat_number})
    if seller.company_number:
        details.append(seller.company_number)
    return [TextLine(seller.legal_name, style("seller", size=15, bold=True))] + [
        TextLine(line, style("seller-line", textColor=MUTED)) for line in details
    ]


def _facts(document: Document) -> Table:
    title = TextLine(document.kind.upper(), style("title", size=18, bold=True, textColor=WINE))
    table = Table([[title, ""], *document.facts], colWidths=[30 * mm, 42 * mm])
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


def _customer(document: Document) -> list:
    who = document.customer
    if who.collected:
        lines = [who.name, _("Collected at the shop"), who.email]
    else:
        lines = [who.name, who.address, f"{who.postal_code} {who.city}"]
        lines += [who.country] if who.country else []
        lines.append(who.email)
    lines += [who.phone] if who.phone else []
    return [TextLine(document.customer_label, style("label", size=8, textColor=MUTED))] + [
        TextLine(line, style("customer", size=10, bold=index == 0))
        for index, line in enumerate(lines)
    ]


def _name_cell(name: str, cell):
    """Return a wine's name as its cell shows it: a paragraph that wraps when it needs more
    than a line, or else the plain string, which Rows draws many times faster in the same place
    (with the paragraph's leading and colour)."""
    return name if one_line(name, cell, WIDTHS[0] - 2 * CELL_PADDING) else text(name, cell)


def _lines(document: Document) -> Rows:
    cell = style("cell", size=8.5)
    # A document's lines repeat a few prices: each is written out once.
    amount = cache(lambda value: _amount(document, value))
    rows = [
        [
            _name_cell(line.wine_name, cell),
            # A line without a SKU is no wine (a credit note's goodwill line): no vintage either.
            str(line.vintage or "NV") if line.sku else "",
            line.sku,
            str(line.quantity),
            amount(line.unit_price),
            amount(line.line_total),
        ]
        for line in document.lines
    ]
    header_row = document.header or header()
    return Rows(header_row, rows, WIDTHS, numeric_from=3, first_style=cell)


def _totals(document: Document) -> Table:
    rows = [[total.label, _amount(document, total.amount)] for total in document.totals]
    main = next(index for index, total in enumerate(document.totals) if total.emphasis)
    commands = [
        ("FONT", (0, 0), (-1, -1), FONT, 9),
        ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("FONT", (0, main), (-1, main), BOLD, 11),
        ("TEXTCOLOR", (0, main), (-1, main), WINE),
        ("LINEABOVE", (0, main), (-1, main), 0.8, WINE),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
    ]
    if main < len(rows) - 1:
        commands.insert(-1, ("TEXTCOLOR", (0, main + 1), (-1, -1), MUTED))
    # Wide enough for the longest label ("Delivery to Germany (European Union)").
    label = 4 * mm + max(
        stringWidth(total.label, *((BOLD, 11) if total.emphasis else (FONT, 9)))
        for total in document.totals
    )
    table = Table(rows, colWidths=[max(50 * mm, label), 30 * mm], hAlign="RIGHT")
    table.setStyle(TableStyle(commands))
    return table


def document_pdf(document: Document) -> bytes:
    """Return the PDF of an issued document: pages of lines with the header repeated, and the
    footer with "Page x of y" on each."""
    heading = Table([[_seller(document.seller), _facts(document)]], colWidths=[102 * mm, 72 * mm])
    heading.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    rule = Table([[""]], colWidths=[174 * mm], rowHeights=[1])
    rule.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.5, RULE)]))
    story = [
        heading,
        Spacer(1, 6 * mm),
        rule,
        Spacer(1, 4 * mm),
        *_customer(document),
        Spacer(1, 8 * mm),
        _lines(document),
        Spacer(1, 5 * mm),
        # The totals are read together, with what they say about the amounts.
        KeepTogether(
            [
                _totals(document),
                Spacer(1, 8 * mm),
                text(document.note, style("note", size=8, textColor=MUTED)),
            ]
        ),
    ]
    name = f"{document.kind} {document.number}"
    return build(
        story,
        title=name,
        author=document.seller.legal_name,
        footer=f"{document.seller.legal_name} · {name} · {document.reference}",
    )
