"""The credit note: the snapshot taken when it is numbered, and its page drawn from that snapshot.

A credit note says what a succeeded refund gave back on an order and cites the order's invoice,
which is never edited. Its page has the invoice's layout (reports.documents): the seller, the
credit note's number and date, the invoice it cites and its date, the order, the customer as the
invoice names them, one line per refunded order line (bottles and the money given back for
them, the coupon's share taken off), the delivery when a refund canceling the order gives it
back, or one goodwill line for money given back beyond its bottles (an amount alone, or a refund
made in Stripe's dashboard), then the amount refunded and the VAT it contains at the rate of the
invoice (the destination's, for wine and delivery alike).
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from reports.documents import (
    Customer,
    Document,
    Line,
    OrderRef,
    Seller,
    Snapshot,
    Total,
    VatShare,
    document_pdf,
    header,
    long_date,
    order_ref,
    seller_now,
    vat_share,
)
from reports.invoices import InvoiceSnapshot, vat_label


@dataclass(frozen=True)
class CreditNoteSnapshot(Snapshot):
    """Everything a credit note shows, as it was when it was numbered."""

    number: str
    issued_on: date
    seller: Seller
    customer: Customer
    order: OrderRef
    invoice_number: str
    invoice_issued_on: date
    currency: str
    currency_symbol: str
    lines: tuple[Line, ...]
    amount: Decimal
    vat: tuple[VatShare, ...]
    amount_excluding_vat: Decimal
    version: int = 1
    language: str = ""  # the invoice's: blank on credit notes issued before documents had one


def refunded_line(refund_line) -> Line:
    """Return a refund's line (RefundLine, with its item) as the credit note shows it: the
    bottles at the price they were sold, and the money given back for them."""
    item = refund_line.item
    return Line(
        sku=item.sku,
        wine_name=item.wine_name,
        vintage=item.vintage,
        unit_price=item.unit_price,
        quantity=refund_line.quantity,
        line_total=refund_line.amount,
    )


def amount_line(name: str, amount: Decimal) -> Line:
    """Return a line of money given back for no bottle: goodwill, or the delivery."""
    return Line(
        sku="", wine_name=name, vintage=None, unit_price=amount, quantity=1, line_total=amount
    )


def credit_note_snapshot(
    *, refund, refund_lines, order, invoice, number: str, issued_at: datetime
) -> CreditNoteSnapshot:
    """Return what the credit note numbered number shows for the refund and its lines
    (RefundLine rows with their items), citing the order's invoice (an Invoice).

    The customer, the currency's symbol and the VAT rate are the invoice's: the credit note
    corrects that invoice. The seller is the one issuing the note, as the settings name it now.
    """
    cited = InvoiceSnapshot.from_json(invoice.snapshot)
    with translation.override(cited.language or settings.LANGUAGE_CODE):
        return _credit_note_snapshot(refund, refund_lines, order, invoice, cited, number, issued_at)


def _credit_note_snapshot(refund, refund_lines, order, invoice, cited, number, issued_at):
    lines = [refunded_line(line) for line in refund_lines]
    beyond = refund.amount - sum((line.line_total for line in lines), Decimal("0.00"))
    # A refund canceling the order gives back its delivery too, as the invoice named it.
    delivery = cited.delivery if refund.cancels_order else None
    if beyond > 0 and delivery and delivery.charge:
        charge = min(beyond, delivery.charge)
        lines.append(
            amount_line(_("%(delivery)s, refunded") % {"delivery": delivery.label}, charge)
        )
        beyond -= charge
    if beyond > 0:
        lines.append(amount_line(_("Goodwill refund"), beyond))
    # One rate per order, wine and delivery alike, as on its invoice.
    vat = (vat_share(refund.amount, cited.vat[0].rate),)
    return CreditNoteSnapshot(
        number=number,
        issued_on=timezone.localdate(issued_at),
        seller=seller_now(),
        customer=cited.customer,
        order=order_ref(order),
        invoice_number=invoice.number,
        invoice_issued_on=cited.issued_on,
        currency=order.currency,
        currency_symbol=cited.currency_symbol,
        lines=tuple(lines),
        amount=refund.amount,
        vat=vat,
        amount_excluding_vat=refund.amount - sum(share.amount for share in vat),
        language=cited.language or settings.LANGUAGE_CODE,
    )


def credit_note_document(snapshot: CreditNoteSnapshot) -> Document:
    """Return the credit note's page, from its snapshot only."""
    totals = [
        Total(_("Amount refunded"), snapshot.amount, emphasis=True),
        *(Total(vat_label(share), share.amount) for share in snapshot.vat),
        Total(_("Excluding VAT"), snapshot.amount_excluding_vat),
    ]
    return Document.of(
        snapshot,
        kind=_("Credit note"),
        facts=(
            (_("Credit note"), snapshot.number),
            (_("Date"), long_date(snapshot.issued_on)),
            (_("Cites invoice"), snapshot.invoice_number),
            (_("Invoice date"), long_date(snapshot.invoice_issued_on)),
            (_("Order"), snapshot.order.number),
        ),
        customer_label=_("Credited to"),
        totals=tuple(totals),
        note=_(
            "This credit note cites invoice %(invoice)s of %(date)s and gives back the amount "
            "refunded, VAT included. Amounts in %(currency)s."
        )
        % {
            "invoice": snapshot.invoice_number,
            "date": long_date(snapshot.invoice_issued_on),
            "currency": snapshot.currency,
        },
        header=(*header()[:-1], _("Refunded")),
    )


def credit_note_pdf(snapshot: CreditNoteSnapshot) -> bytes:
    """Return the credit note's PDF, drawn from its snapshot alone, in its language."""
    with translation.override(snapshot.language or settings.LANGUAGE_CODE):
        return document_pdf(credit_note_document(snapshot))
