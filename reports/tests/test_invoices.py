"""The invoice: the snapshot of what it shows, and its PDF read back as text."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from django.utils.formats import date_format

from reports.documents import header
from reports.invoices import InvoiceSnapshot, invoice_pdf
from reports.models import Invoice
from reports.services import invoice_ensure
from reports.tests.factories import ACCENTED_WINES, german_order, paid_order
from reports.tests.pdf import pdf_pages, pdf_text, read_invoice
from shop.delivery.models import DeliveryMethod

pytestmark = pytest.mark.django_db

# The seller, a customer and a line of wine as a snapshot keeps them.
SELLER = {
    "legal_name": "Caves Lagrézette SARL",
    "address": ["3 quai des Chartrons", "33000 Bordeaux"],
    "email": "factures@lagrezette.example",
    "vat_number": "FR40123456789",
    "company_number": "RCS Bordeaux 123 456 789",
}
CUSTOMER = {
    "name": "Zoë Müller-Lüdenscheidt",
    "address": "8 allée des Chênes",
    "postal_code": "51200",
    "city": "Épernay",
}
CAHORS_LINE = {
    "sku": "SKU-00000",
    "wine_name": "Château Lagrézette Cahors",
    "vintage": 2015,
    "unit_price": "24.90",
    "quantity": 3,
    "line_total": "74.70",
}


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
        "€74.70",  # 3 * 24.90
        "€37.00",
        "€1,045.00",
        "Subtotal",
        "€1,156.70",
        "Coupon AUTOMNE10",
        "\u2212€15.00",
        "Total paid",
        "€1,141.70",
        "of which VAT 20 %",
        "€190.28",  # 1141.70 * 0.2 / 1.2
        "€951.42",
        "Page 1 of 1",
    ]:
        assert expected in text, expected


def test_invoice_without_coupon_has_no_coupon_line():
    order = paid_order([("Cuvée Sans Remise", Decimal("12.00"), 1)])
    text = pdf_text(read_invoice(invoice_ensure(order_id=order.pk)))
    assert "Coupon" not in text
    assert "of which VAT 20 %" in text
    assert "€2.00" in text


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
        if "SKU-" in page:  # the totals may end on a page of their own
            assert "\n".join(header()) in page, number
        assert f"Page {number} of {len(pages)}" in page
    found = {int(n) for n in re.findall(r"SKU-(\d{5})", "\n".join(pages))}
    assert found == set(range(300))
    assert "€3,000.00" in pages[-1]


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
        "seller": SELLER,
        "customer": {
            **CUSTOMER,
            "email": order.email,
            "country": "France",
            "phone": "+33 5 56 00 00 00",
            "collected": False,
        },
        "order": {
            "number": order.number,
            "placed_on": timezone.localdate(order.created).isoformat(),
            "paid_on": timezone.localdate(order.paid_at).isoformat(),
        },
        "currency": "EUR",
        "currency_symbol": "€",
        "lines": [
            CAHORS_LINE,
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
        "vat": [{"rate": "0.2000", "amount": "184.12", "on": "wine"}],
        "total_excluding_vat": "920.58",
        "delivery": {"method": "delivery", "label": "Delivery to France", "charge": "0.00"},
        "version": 2,
        "language": "en",  # the order's, else the shop's
    }
    issued = InvoiceSnapshot.from_json(invoice.snapshot)
    assert (issued.total, issued.vat[0].rate, issued.lines[1].unit_price) == (
        Decimal("1104.70"),
        Decimal("0.20"),
        Decimal("1045.00"),
    )
    assert isinstance(issued.total_excluding_vat, Decimal)
    text = pdf_text(read_invoice(invoice))
    for shown in ["€184.12", "€920.58", "factures@lagrezette.example", "RCS Bordeaux 123 456"]:
        assert shown in text, shown


def said(content: bytes) -> str:
    """Return the PDF's text with its lines and spaces run together, as one reads it."""
    return " ".join(pdf_text(content).split())


def test_an_invoice_to_germany_shows_the_country_the_delivery_and_vat_at_19_percent(settings):
    settings.VAT_RATE = Decimal("0.055")  # the home rate: not the order's
    order = german_order()  # 2 bottles at 25.00 and 9.90 delivery
    text = said(read_invoice(invoice_ensure(order_id=order.pk)))

    assert "Unter den Linden 5 10117 Berlin Germany" in text  # the country under the city
    assert "+49 30 1234567" in text
    for shown in [
        "Subtotal €50.00",
        "Delivery to Germany (European Union) €9.90",
        "Total paid €59.90",
        "of which VAT 19 % on wine €7.98",  # 50.00 * 0.19 / 1.19
        "of which VAT 19 % on delivery €1.58",  # 9.90 * 0.19 / 1.19
        "Total excluding VAT €50.34",
        "Prices include VAT at 19 %.",
    ]:
        assert shown in text, shown
    assert "5.5 %" not in text and "20 %" not in text


def test_an_order_placed_in_french_gets_its_invoice_in_french_for_good():
    order = german_order(language="fr")
    invoice = invoice_ensure(order_id=order.pk)
    text = said(read_invoice(invoice))

    issued = timezone.localdate(invoice.issued_at)
    for shown in [
        "FACTURE",
        "Facturé à",
        "Unter den Linden 5 10117 Berlin Allemagne",
        "Sous-total 50,00 €",
        "Livraison – Allemagne (European Union) 9,90 €",  # the zone is the merchant's name
        "Total payé 59,90 €",
        "dont TVA 19 % sur le vin 7,98 €",
        "dont TVA 19 % sur la livraison 1,58 €",
        "Prix TTC, TVA à 19 %.",
    ]:
        assert shown in text, shown
    with translation.override("fr"):
        assert date_format(issued, "d F Y") in text  # "02 décembre 2026"
    # Drawn again later, by a worker speaking English: the same French document.
    with translation.override("en"):
        again = said(invoice_pdf(InvoiceSnapshot.from_json(invoice.snapshot)))
    assert again == text


def test_the_vat_of_wine_and_delivery_are_rounded_each_and_add_up_to_the_total():
    order = german_order([("Riesling", Decimal("10.01"), 1)], delivery_charge=Decimal("4.99"))
    snapshot = InvoiceSnapshot.from_json(invoice_ensure(order_id=order.pk).snapshot)

    assert [(share.on, share.rate, share.amount) for share in snapshot.vat] == [
        ("wine", Decimal("0.19"), Decimal("1.60")),  # 1.5982…
        ("delivery", Decimal("0.19"), Decimal("0.80")),  # 0.7967…
    ]
    assert snapshot.total_excluding_vat + Decimal("2.40") == snapshot.total == Decimal("15.00")
    assert snapshot.delivery.label == "Delivery to Germany (European Union)"


def test_a_click_and_collect_invoice_has_no_address_and_no_delivery_charge():
    order = paid_order(
        delivery_method=DeliveryMethod.COLLECT, address="", postal_code="", city="", phone=""
    )
    text = said(read_invoice(invoice_ensure(order_id=order.pk)))

    assert "Billed to Camille Rodríguez Collected at the shop buyer" in text
    assert "Click & collect €0.00 Total paid €50.00" in text
    assert "of which VAT 20 % on wine €8.33" in text
    assert "on delivery" not in text and "Delivery to" not in text


# An invoice issued before orders knew where they went, as it was stored: no country, no
# delivery, one VAT share of the whole total.
SNAPSHOT_V1 = {
    "number": "INV-2026-000042",
    "issued_on": "2026-03-14",
    "seller": SELLER,
    "customer": {**CUSTOMER, "email": "zoe@example.com"},
    "order": {"number": "WS-7K3F-9QH2", "placed_on": "2026-03-13", "paid_on": "2026-03-14"},
    "currency": "EUR",
    "currency_symbol": "€",
    "lines": [
        CAHORS_LINE,
    ],
    "subtotal": "74.70",
    "coupon_code": "AUTOMNE10",
    "discount": "15.00",
    "total": "59.70",
    "vat": [{"rate": "0.20", "amount": "9.95"}],
    "total_excluding_vat": "49.75",
    "version": 1,
}
# Its text as the invoice printed it before.
TEXT_V1 = (
    "Caves Lagrézette SARL\n3 quai des Chartrons\n33000 Bordeaux\nfactures@lagrezette.example\n"
    "VAT number: FR40123456789\nRCS Bordeaux 123 456 789\nINVOICE\nInvoice number\n"
    "INV-2026-000042\nInvoice date\n14 March 2026\nOrder\nWS-7K3F-9QH2\nPaid on\n14 March 2026\n"
    "Billed to\nZoë Müller-Lüdenscheidt\n8 allée des Chênes\n51200 Épernay\nzoe@example.com\n"
    "Wine\nVintage\nSKU\nQty\nUnit price\nLine total\nChâteau Lagrézette Cahors\n2015\n"
    "SKU-00000\n3\n24.90 €\n74.70 €\nSubtotal\n74.70 €\nCoupon AUTOMNE10\n-15.00 €\n"
    "Total paid\n59.70 €\nof which VAT 20 %\n9.95 €\nTotal excluding VAT\n49.75 €\n"
    "Prices include VAT at 20 %. Amounts in EUR. Thank you for your order.\n"
    "Caves Lagrézette SARL · Invoice INV-2026-000042 · Order WS-7K3F-9QH2\nPage 1 of 1\n"
)


def test_an_invoice_issued_before_delivery_prints_exactly_as_it_did():
    snapshot = InvoiceSnapshot.from_json(SNAPSHOT_V1)
    assert (snapshot.version, snapshot.delivery, snapshot.customer.country) == (1, None, "")
    assert pdf_text(invoice_pdf(snapshot)) == TEXT_V1
