"""Issued documents: snapshots to JSON and back, and the page layout any document can use."""

import dataclasses
import json
from datetime import date
from decimal import Decimal

import pytest

from reports.documents import (
    Customer,
    Document,
    Line,
    OrderRef,
    Seller,
    Total,
    VatShare,
    document_pdf,
    header,
    snapshot_dump,
    snapshot_load,
)
from reports.invoices import InvoiceSnapshot
from reports.tests.pdf import pdf_text

SELLER = Seller(
    legal_name="Caves Lagrézette SARL",
    address=("3 quai des Chartrons", "33000 Bordeaux"),
    email="",
    vat_number="FR40123456789",
    company_number="",
)
CUSTOMER = Customer(
    name="Zoë Müller-Lüdenscheidt",
    address="8 allée des Chênes",
    postal_code="51200",
    city="Épernay",
    email="zoe@example.com",
)
LINES = (
    Line("SKU-1", "Château Lagrézette Cahors", 2015, Decimal("24.90"), 3, Decimal("74.70")),
    Line("SKU-2", "Domaine <Tête> & Fils", None, Decimal("1045.00"), 1, Decimal("1045.00")),
)
CREDIT_NOTE = Document(
    kind="Credit note",
    number="CN-2026-000007",
    facts=(
        ("Credit note number", "CN-2026-000007"),
        ("Invoice", "INV-2026-000042"),
        ("Invoice date", "14 March 2026"),
    ),
    seller=SELLER,
    customer_label="Credited to",
    customer=CUSTOMER,
    lines=LINES[:1],
    totals=(Total("Total refunded", Decimal("24.90"), emphasis=True),),
    note="Amounts in CHF.",
    reference="Order WS-7K3F-9QH2",
    currency_symbol="CHF",
    language="en",
)


def test_a_snapshot_goes_to_json_and_back_exactly():
    snapshot = InvoiceSnapshot(
        number="INV-2026-000042",
        issued_on=date(2026, 3, 14),
        seller=SELLER,
        customer=CUSTOMER,
        order=OrderRef(number="WS-7K3F-9QH2", placed_on=date(2026, 3, 13), paid_on=None),
        currency="EUR",
        currency_symbol="€",
        lines=LINES,
        subtotal=Decimal("1119.70"),
        coupon_code="",
        discount=Decimal("0.00"),
        total=Decimal("1119.70"),
        vat=(VatShare(rate=Decimal("0.055"), amount=Decimal("58.37")),),
        total_excluding_vat=Decimal("1061.33"),
    )
    data = json.loads(json.dumps(snapshot_dump(snapshot)))

    assert data["lines"][1] == {
        "sku": "SKU-2",
        "wine_name": "Domaine <Tête> & Fils",
        "vintage": None,
        "unit_price": "1045.00",
        "quantity": 1,
        "line_total": "1045.00",
    }
    assert data["vat"] == [{"rate": "0.055", "amount": "58.37", "on": ""}]
    assert data["order"]["paid_on"] is None and data["issued_on"] == "2026-03-14"
    again = snapshot_load(InvoiceSnapshot, data)
    assert again == snapshot
    assert again.lines[1].unit_price.as_tuple() == Decimal("1045.00").as_tuple()
    assert isinstance(again.seller.address, tuple)


def test_a_snapshot_missing_a_part_is_refused():
    data = snapshot_dump(CUSTOMER)
    del data["city"]
    with pytest.raises(TypeError, match="city"):
        snapshot_load(Customer, data)


def test_any_document_prints_its_facts_parties_lines_and_totals():
    text = pdf_text(document_pdf(CREDIT_NOTE))

    for expected in [
        "CREDIT NOTE",
        "INV-2026-000042",
        "Credited to",
        "Zoë Müller-Lüdenscheidt",
        "33000 Bordeaux",
        "VAT number: FR40123456789",
        "\n".join(header()),
        "Château Lagrézette Cahors",
        "Total refunded",
        "CHF 24.90",  # the PDF keeps the no-break space as a space
        "Caves Lagrézette SARL · Credit note CN-2026-000007 · Order WS-7K3F-9QH2",
        "Page 1 of 1",
    ]:
        assert expected in text, expected
    assert "€" not in text


def test_a_name_too_long_for_its_column_wraps_and_spaces_in_names_print_as_one():
    long_name = "Château Lagrézette Cahors Le Pigeonnier, vieilles vignes élevées en fût de chêne"
    lines = (
        Line("SKU-1", "Clos  des   Papes", 2019, Decimal("52.00"), 1, Decimal("52.00")),
        Line("SKU-2", long_name, 2015, Decimal("120.00"), 1, Decimal("120.00")),
        *LINES,
    )
    document = dataclasses.replace(CREDIT_NOTE, lines=lines)
    text = pdf_text(document_pdf(document))

    assert "Clos des Papes" in text
    assert "Domaine <Tête> & Fils" in text
    assert long_name not in text  # on two lines of its cell
    assert "Château Lagrézette Cahors Le Pigeonnier" in text
    assert "élevées en fût de chêne" in text
