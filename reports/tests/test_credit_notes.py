"""The credit note's page, drawn from its snapshot: what the refund gave back, citing the
invoice, read back with pypdf."""

from decimal import Decimal

import pytest
from django.utils.timezone import localdate

from core.money import money_format
from orders.models import Order, Refund, RefundLine
from reports.credit_notes import CreditNoteSnapshot, credit_note_pdf
from reports.services import credit_note_ensure, invoice_ensure
from reports.tests.factories import (
    ACCENTED_WINES,
    german_order,
    paid_order,
    refunded,
    succeeded_refund,
)
from reports.tests.pdf import pdf_pages, pdf_text, read_invoice

pytestmark = pytest.mark.django_db


def said(content: bytes) -> str:
    """Return the PDF's text with its lines and spaces run together, as one reads it."""
    return " ".join(pdf_text(content).split())


def euros(amount: str) -> str:
    return money_format(Decimal(amount))


def three_wines(**fields) -> Order:
    return paid_order(
        [(ACCENTED_WINES[0], Decimal("30.00"), 3), (ACCENTED_WINES[1], Decimal("18.50"), 2)],
        first_name="Zoë",
        last_name="Lefèvre-Müller",
        city="Épernay",
        **fields,
    )


def test_a_credit_note_shows_the_refunded_bottles_the_cited_invoice_and_the_vat():
    order = three_wines()
    invoice = invoice_ensure(order_id=order.pk)
    credit_note = credit_note_ensure(refund_id=refunded(order, (0, 1)).pk)

    text = said(read_invoice(credit_note))
    assert "CREDIT NOTE" in text
    assert credit_note.number in text
    assert invoice.number in text  # the invoice it cites, with its date
    assert f"cites invoice {invoice.number} of {localdate(invoice.issued_at):%d %B %Y}" in text
    assert order.number in text
    assert "Zoë Lefèvre-Müller" in text and "Épernay" in text
    assert ACCENTED_WINES[0] in text and ACCENTED_WINES[1] not in text
    assert f"Amount refunded {euros('30.00')}" in text
    assert f"of which VAT 20 % {euros('5.00')}" in text  # 30 * 0.20 / 1.20
    assert f"Excluding VAT {euros('25.00')}" in text
    assert "Goodwill refund" not in text


def test_a_refund_of_an_amount_alone_is_one_goodwill_line():
    order = three_wines()
    credit_note = credit_note_ensure(refund_id=refunded(order, amount=Decimal("7.20")).pk)
    snapshot = CreditNoteSnapshot.from_json(credit_note.snapshot)
    [line] = snapshot.lines
    assert (line.wine_name, line.quantity, line.line_total) == (
        "Goodwill refund",
        1,
        Decimal("7.20"),
    )
    assert snapshot.vat[0].amount == Decimal("1.20")

    text = said(read_invoice(credit_note))
    assert f"Goodwill refund 1 {euros('7.20')} {euros('7.20')}" in text  # no vintage: no wine
    assert f"Amount refunded {euros('7.20')} of which VAT 20 % {euros('1.20')}" in text


def test_a_credit_note_speaks_the_language_of_the_invoice_it_corrects():
    order = three_wines(language="fr")
    credit_note = credit_note_ensure(refund_id=refunded(order, amount=Decimal("7.20")).pk)

    text = said(read_invoice(credit_note))

    assert "AVOIR" in text and "Au bénéfice de" in text
    assert "Remboursement commercial 1 7,20 € 7,20 €" in text
    assert "Montant remboursé 7,20 € dont TVA 20 % 1,20 €" in text
    assert CreditNoteSnapshot.from_json(credit_note.snapshot).language == "fr"


def test_a_refund_of_bottles_with_a_coupon_shows_what_was_given_back_for_them():
    order = three_wines(coupon_code="AUTOMNE10", discount=Decimal("12.70"))  # 10 % of 127.00
    credit_note = credit_note_ensure(refund_id=refunded(order, (1, 2)).pk)
    snapshot = CreditNoteSnapshot.from_json(credit_note.snapshot)
    [line] = snapshot.lines
    assert (line.unit_price, line.quantity, line.line_total) == (
        Decimal("18.50"),
        2,
        Decimal("33.30"),  # 37.00 less its share of the coupon
    )
    assert snapshot.amount == credit_note.amount == Decimal("33.30")
    assert f"Amount refunded {euros('33.30')}" in said(read_invoice(credit_note))


def test_the_credit_note_keeps_what_it_said_when_the_order_and_settings_change(settings):
    order = three_wines()
    credit_note = credit_note_ensure(refund_id=refunded(order, (0, 2)).pk)
    before = pdf_text(credit_note_pdf(CreditNoteSnapshot.from_json(credit_note.snapshot)))

    Order.objects.filter(pk=order.pk).update(first_name="Chloé", city="Reims")
    settings.SHOP_LEGAL_NAME, settings.VAT_RATE = "Other Wines SAS", Decimal("0.055")
    after = pdf_text(credit_note_pdf(CreditNoteSnapshot.from_json(credit_note.snapshot)))
    assert after == before
    assert "Zoë" in after and "Other Wines" not in after


def test_a_credit_note_of_many_lines_runs_over_pages_with_the_header_repeated():
    lines = [(f"Cuvée n°{n} Côte-Rôtie", Decimal("12.00"), 1) for n in range(70)]
    order = paid_order(lines)
    refund = refunded(order, *((n, 1) for n in range(70)))
    pages = pdf_pages(read_invoice(credit_note_ensure(refund_id=refund.pk)))

    assert len(pages) >= 2
    assert all("Refunded" in page for page in pages)  # the table's header on each page
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1]
    assert "Cuvée n°69 Côte-Rôtie" in pages[-1]
    assert f"Amount refunded {euros('840.00')}" in " ".join(pages[-1].split())


def test_the_customer_is_named_as_on_the_cited_invoice():
    order = three_wines()
    invoice_ensure(order_id=order.pk)
    Order.objects.filter(pk=order.pk).update(last_name="Dupont")  # after invoicing
    credit_note = credit_note_ensure(refund_id=refunded(order, (0, 1)).pk)
    assert "Zoë Lefèvre-Müller" in pdf_text(read_invoice(credit_note))


def test_a_refund_of_bottles_and_delivery_to_germany_states_vat_at_19_percent(settings):
    settings.VAT_RATE = Decimal("0.055")  # the home rate: not the order's
    order = german_order()  # 50.00 of wine, 9.90 delivery
    credit_note = credit_note_ensure(refund_id=refunded(order, (0, 2), amount=order.total).pk)

    snapshot = CreditNoteSnapshot.from_json(credit_note.snapshot)
    assert [(share.rate, share.amount) for share in snapshot.vat] == [
        (Decimal("0.19"), Decimal("9.56"))  # 59.90 * 0.19 / 1.19
    ]
    text = said(read_invoice(credit_note))
    assert f"Amount refunded {euros('59.90')} of which VAT 19 % {euros('9.56')}" in text
    assert f"Excluding VAT {euros('50.34')}" in text
    assert "Berlin Germany" in text  # the customer as the invoice names them


def test_a_refund_canceling_the_order_gives_back_its_delivery_as_a_line_of_its_own():
    order = german_order()
    item = order.items.get()
    refund = succeeded_refund(order, amount=order.total)
    Refund.objects.filter(pk=refund.pk).update(cancels_order=True)
    RefundLine.objects.create(refund=refund, item=item, quantity=2, amount=Decimal("50.00"))

    snapshot = CreditNoteSnapshot.from_json(credit_note_ensure(refund_id=refund.pk).snapshot)

    assert [(line.wine_name, line.line_total) for line in snapshot.lines] == [
        (item.wine_name, Decimal("50.00")),
        ("Delivery to Germany (European Union), refunded", Decimal("9.90")),
    ]
    assert (snapshot.amount, snapshot.vat[0].amount) == (Decimal("59.90"), Decimal("9.56"))
