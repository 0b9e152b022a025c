"""The VAT a sale contains: one rule for pages, emails, invoices, credit notes and reports.

Prices include VAT. An order is taxed at the rate of its destination, frozen on it when it was
placed (Order.vat_rate); its wine (the total less delivery) and its delivery are each a line of
the invoice, each with the VAT it contains rounded on its own, so the sales report, summing
orders, finds the sum of the invoices to the cent.
"""

from decimal import Decimal

from core.money import quantize


def percent(rate: Decimal) -> str:
    """Return a rate such as Decimal("0.20") as "20 %"."""
    return f"{(rate * 100).normalize():f} %"


def vat_included(total: Decimal, rate: Decimal) -> Decimal:
    """Return the VAT contained in a VAT-inclusive total."""
    return quantize(total * rate / (1 + rate))


def sale_vat(*, total: Decimal, delivery_charge: Decimal, rate: Decimal) -> Decimal:
    """Return the VAT an order's total contains: its wine's and its delivery's, as its invoice
    prints them."""
    return vat_included(total - delivery_charge, rate) + vat_included(delivery_charge, rate)
