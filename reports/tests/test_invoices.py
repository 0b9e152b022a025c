"""The invoice: the snapshot of what it shows, and its PDF read back as text."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone

from reports.documents import HEADER
from reports.invoices import InvoiceSnapshot
from reports.models import Invoice
from reports.services import invoice_ensure
from reports.tests.factories import ACCENTED_WINES, paid_order
from reports.tests.pdf import pdf_pages, pdf_text, read_invoice

pytestmark = pytest.mark.django_db


def test_invoice_shows_seller_customer_lines_coupon_vat_and_total(settings):
    settings.SHOP_LEGAL_NAME = "Caves Lagrézette SARL"
    settings.SHOP_ADDRESS = ["3 quai des Chartrons", "33000 Bordeaux"]
    settings.SHOP_VAT_NUMBER = "FR40123456789"
    order = paid_order(
        [
            (ACCENTED_WINES[0], Decimal("24.90"), 3),
            (ACCENTED_WINES[1], Decimal("18.50"), 2),
            (ACCENTED_WINES[2], Decimal("1045.00"), 1),
        ],
        coupon_code="AUTOMNE10",
        discount=Decimal("15.00"),
        first_name="Zoë",
        last_name="Müller-Lüdenscheidt",
        address="8 allée des Chênes",
        city="Épernay",
    )
    invoice = invoice_ensure(order_id=order.pk)
    text = pdf_text(read_invoice(invoice))

    assert re.fullmatch(r"INV-\d{4}-000001", invoice.number)
    for expected in [
        "Caves Lagrézette SARL",
        "3 quai des Chartrons",
        "FR40123456789",
        invoice.number,
        order.number,
        "Zoë Müller-Lüdenscheidt",
        "8 allée des Chênes",
        "Épernay",
        *ACCENTED_WINES,
        "74.70 €",  # 3 * 24.90
        "37.00 €",
        "1,045.00 €",
        "Subtotal",
        "1,156.70 €",
        "Coupon AUTOMNE10",
        "-15.00 €",
        "Total paid",
        "1,141.70 €",
        "of which VAT 20 %",
        "190.28 €",  # 1141.70 * 0.2 / 1.2
        "951.42 €",
        "Page 1 of 1",
    ]:
        assert expected in text, expected


def test_invoice_without_coupon_has_no_coupon_line():
    order = paid_order([("Cuvée Sans Remise", Decimal("12.00"), 1)])
    text = pdf_text(read_invoice(invoice_ensure(order_id=order.pk)))
    assert "Coupon" not in text
    assert "of which VAT 20 %" in text
    assert "2.00 €" in text


def test_names_with_markup_characters_are_printed_as_they_are():
    order = paid_order([("Domaine <Tête> & Fils", Decimal("9.00"), 1)], last_name="O'Brien & Co")
    text = pdf_text(read_invoice(invoice_ensure(order_id=order.pk)))
    assert "Domaine <Tête> & Fils" in text
    assert "O'Brien & Co" in text


def test_a_300_line_invoice_repeats_the_header_and_numbers_its_pages():
    lines = [(f"{ACCENTED_WINES[n % 3]} lot {n}", Decimal("10.00"), 1) for n in range(300)]
    order = paid_order(lines)
    pages = pdf_pages(read_invoice(invoice_ensure(order_id=order.pk)))

    assert len(pages) > 5
    for number, page in enumerate(pages, start=1):
        assert "\n".join(HEADER) in page, number
        assert f"Page {number} of {len(pages)}" in page
    found = {int(n) for n in re.findall(r"SKU-(\d{5})", "\n".join(pages))}
    assert found == set(range(300))
    assert "3,000.00 €" in pages[-1]


def test_the_snapshot_holds_what_the_invoice_shows_names_exactly_amounts_as_strings(settings):
    settings.SHOP_LEGAL_NAME = "Caves Lagrézette SARL"
    settings.SHOP_ADDRESS = ["3 quai des Chartrons", "33000 Bordeaux"]
    settings.SHOP_INVOICE_EMAIL = "factures@lagrezette.example"
    settings.SHOP_VAT_NUMBER = "FR40123456789"
    settings.SHOP_COMPANY_NUMBER = "RCS Bordeaux 123 456 789"
    order = paid_order(
        [(ACCENTED_WINES[0], Decimal("24.90"), 3), (ACCENTED_WINES[1], Decimal("1045.00"), 1)],
        coupon_code="AUTOMNE10",
        discount=Decimal("15.00"),
        first_name="Zoë",
        last_name="Müller-Lüdenscheidt",
        address="8 allée des Chênes",
        postal_code="51200",
        city="Épernay",
    )
    invoice = Invoice.objects.get(pk=invoice_ensure(order_id=order.pk).pk)

    assert invoice.snapshot == {
        "number": invoice.number,
        "issued_on": timezone.localdate(invoice.issued_at).isoformat(),
        "seller": {
            "legal_name": "Caves Lagrézette SARL",
            "address": ["3 quai des Chartrons", "33000 Bordeaux"],
            "email": "factures@lagrezette.example",
            "vat_number": "FR40123456789",
            "company_number": "RCS Bordeaux 123 456 789",
        },
        "customer": {
            "name": "Zoë Müller-Lüdenscheidt",
            "address": "8 allée des Chênes",
            "postal_code": "51200",
            "city": "Épernay",
            "email": order.email,
        },
        "order": {
            "number": order.number,
            "placed_on": timezone.localdate(order.created).isoformat(),
            "paid_on": timezone.localdate(order.paid_at).isoformat(),
        },
        "currency": "EUR",
        "currency_symbol": "€",
        "lines": [
            {
                "sku": "SKU-00000",
                "wine_name": "Château Lagrézette Cahors",
                "vintage": 2015,
                "unit_price": "24.90",
                "quantity": 3,
                "line_total": "74.70",
            },
            {
                "sku": "SKU-00001",
                "wine_name": "Bodega Carmen Rodríguez Rioja Reserva",
                "vintage": 2016,
                "unit_price": "1045.00",
                "quantity": 1,
                "line_total": "1045.00",
            },
        ],
        "subtotal": "1119.70",
        "coupon_code": "AUTOMNE10",
        "discount": "15.00",
        "total": "1104.70",
        "vat": [{"rate": "0.20", "amount": "184.12"}],
        "total_excluding_vat": "920.58",
        "version": 1,
    }
    issued = InvoiceSnapshot.from_json(invoice.snapshot)
    assert (issued.total, issued.vat[0].rate, issued.lines[1].unit_price) == (
        Decimal("1104.70"),
        Decimal("0.20"),
        Decimal("1045.00"),
    )
    assert isinstance(issued.total_excluding_vat, Decimal)
    text = pdf_text(read_invoice(invoice))
    for shown in ["184.12 €", "920.58 €", "factures@lagrezette.example", "RCS Bordeaux 123 456"]:
        assert shown in text, shown
