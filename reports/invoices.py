"""The invoice: the snapshot taken when it is numbered, and its page drawn from that snapshot.

The page shows the seller, the invoice's number and date, the order, the customer (with the
destination country and phone, or "Collected at the shop"), one line per wine sold, the coupon,
the delivery, the total paid and the VAT it contains at the order's rate, on the wine and on the
delivery (reports.documents draws it).

Snapshots of version 1, taken before orders knew where they went, have no delivery and one VAT
share of the whole total: they print exactly as they did.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.vat import percent
from reports.documents import (
    Customer,
    Document,
    Line,
    OrderRef,
    Seller,
    Snapshot,
    Total,
    VatShare,
    customer_of,
    document_pdf,
    line_of,
    long_date,
    order_ref,
    seller_now,
    vat_share,
)
from shop.delivery.selectors import delivery_label


@dataclass(frozen=True)
class Delivery:
    """How the order reached the customer, and what that cost, VAT included."""

    method: str  # DeliveryMethod
    label: str  # "Delivery to Germany (European Union)", "Click & collect"
    charge: Decimal


@dataclass(frozen=True)
class InvoiceSnapshot(Snapshot):
    """Everything an invoice shows, as it was when it was numbered."""

    number: str
    issued_on: date
    seller: Seller
    customer: Customer
    order: OrderRef
    currency: str
    currency_symbol: str
    lines: tuple[Line, ...]
    subtotal: Decimal
    coupon_code: str
    discount: Decimal
    total: Decimal
    vat: tuple[VatShare, ...]
    total_excluding_vat: Decimal
    delivery: Delivery | None = None  # None on invoices of version 1
    # The shape of the snapshot: a reader of older invoices knows which one it holds.
    version: int = 2
    # The order's language: blank on invoices issued before documents had one (English, with
    # amounts printed as then).
    language: str = ""


def delivery_of(order) -> Delivery:
    """Return the order's delivery as its invoice names it."""
    label = delivery_label(
        method=order.delivery_method, country=order.country, zone=order.delivery_zone
    )
    return Delivery(method=order.delivery_method, label=label, charge=order.delivery_charge)


def invoice_snapshot(*, order, items, number: str, issued_at: datetime) -> InvoiceSnapshot:
    """Return what the invoice numbered number shows for the order and its items (OrderItem
    rows, or rows of their LINE_FIELDS), with the seller and the currency symbol the settings
    give now.

    VAT is at the order's rate (its destination's, frozen when it was placed): the VAT the wine
    contains (the total less delivery), and the delivery's when it was charged (core.vat). It
    speaks the order's language, as every later PDF of it does.
    """
    with translation.override(order.language or settings.LANGUAGE_CODE):
        return _invoice_snapshot(order, items, number, issued_at)


def _invoice_snapshot(order, items, number, issued_at) -> InvoiceSnapshot:
    delivery = delivery_of(order)
    vat = (vat_share(order.total - delivery.charge, order.vat_rate, on="wine"),)
    if delivery.charge:
        vat += (vat_share(delivery.charge, order.vat_rate, on="delivery"),)
    return InvoiceSnapshot(
        number=number,
        issued_on=timezone.localdate(issued_at),
        seller=seller_now(),
        customer=customer_of(order),
        order=order_ref(order),
        currency=order.currency,
        currency_symbol=settings.SHOP_CURRENCY_SYMBOL,
        lines=tuple(line_of(item) for item in items),
        subtotal=order.subtotal,
        coupon_code=order.coupon_code,
        discount=order.discount,
        total=order.total,
        vat=vat,
        total_excluding_vat=order.total - sum(share.amount for share in vat),
        delivery=delivery,
        language=order.language or settings.LANGUAGE_CODE,
    )


def vat_label(share: VatShare) -> str:
    """Return the line naming a VAT share: "of which VAT 19 % on delivery"."""
    rate = percent(share.rate)
    if share.on == "wine":
        return _("of which VAT %(rate)s on wine") % {"rate": rate}
    if share.on == "delivery":
        return _("of which VAT %(rate)s on delivery") % {"rate": rate}
    return _("of which VAT %(rate)s") % {"rate": rate}


def invoice_document(snapshot: InvoiceSnapshot) -> Document:
    """Return the invoice's page, from its snapshot only."""
    totals = [Total(_("Subtotal"), snapshot.subtotal)]
    if snapshot.discount:
        coupon = _("Coupon %(code)s") % {"code": snapshot.coupon_code}
        coupon = coupon if snapshot.coupon_code else _("Discount")
        totals.append(Total(coupon, -snapshot.discount))
    if snapshot.delivery:
        totals.append(Total(snapshot.delivery.label, snapshot.delivery.charge))
    totals.append(Total(_("Total paid"), snapshot.total, emphasis=True))
    totals += [Total(vat_label(share), share.amount) for share in snapshot.vat]
    totals.append(Total(_("Total excluding VAT"), snapshot.total_excluding_vat))
    rates = _(" and ").join(dict.fromkeys(percent(share.rate) for share in snapshot.vat))
    return Document.of(
        snapshot,
        kind=_("Invoice"),
        facts=(
            (_("Invoice number"), snapshot.number),
            (_("Invoice date"), long_date(snapshot.issued_on)),
            (_("Order"), snapshot.order.number),
            (_("Paid on"), long_date(snapshot.order.paid_on)),
        ),
        customer_label=_("Billed to"),
        totals=tuple(totals),
        note=_(
            "Prices include VAT at %(rates)s. Amounts in %(currency)s. Thank you for your order."
        )
        % {"rates": rates, "currency": snapshot.currency},
    )


def invoice_pdf(snapshot: InvoiceSnapshot) -> bytes:
    """Return the invoice's PDF, drawn from its snapshot alone, in its language."""
    with translation.override(snapshot.language or settings.LANGUAGE_CODE):
        return document_pdf(invoice_document(snapshot))
