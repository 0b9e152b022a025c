"""What a basket or an order adds up to, line by line, for every page, email and export.

The cart, the checkout, the order's page and its emails all show the same lines, in the same
order, with the same words: the wine, the coupon's discount, the delivery, the total and the VAT
the total includes (computed as the invoice computes it, so the two agree to the cent).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from core.vat import percent, sale_vat


@dataclass(frozen=True)
class AmountLine:
    kind: str  # "subtotal", "discount", "delivery", "total" or "vat": how it is styled
    label: str
    amount: Decimal | None  # None: a delivery that costs nothing ("Free")


def sale_totals(
    *,
    subtotal: Decimal,
    discount: Decimal,
    coupon_code: str,
    delivery_label: str,
    delivery_charge: Decimal | None,
    total: Decimal,
    vat_rate: Decimal | None,
) -> list[AmountLine]:
    """Return the lines of a sale, from its wine to the VAT its total includes.

    delivery_charge None leaves the delivery out (not chosen yet), as vat_rate None leaves out
    the VAT (the destination, which sets it, is not known yet).
    """
    lines = [AmountLine("subtotal", _("Wine"), subtotal)]
    if discount:
        lines.append(
            AmountLine("discount", _("Coupon %(code)s") % {"code": coupon_code}, -discount)
        )
    if delivery_charge is not None:
        lines.append(AmountLine("delivery", delivery_label, delivery_charge or None))
    lines.append(AmountLine("total", _("Total"), total))
    if vat_rate is not None:
        charge = delivery_charge or Decimal("0")
        vat = sale_vat(total=total, delivery_charge=charge, rate=vat_rate)
        lines.append(AmountLine("vat", _("incl. VAT %(rate)s") % {"rate": percent(vat_rate)}, vat))
    return lines
