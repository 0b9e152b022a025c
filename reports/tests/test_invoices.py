import re
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from core.money import to_minor_units
from orders.models import Order, OrderEmail, OrderEvent
from orders.services import order_mark_paid, order_place
from orders.tests.factories import OrderFactory, customer
from reports import tasks
from reports.exceptions import NotInvoiceable
from reports.invoices import HEADER, vat_included
from reports.models import Invoice, InvoiceSequence
from reports.services import invoice_ensure, invoice_regenerate
from reports.tests.factories import ACCENTED_WINES, paid_order
from reports.tests.pdf import pdf_pages, pdf_text
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db


def read(invoice: Invoice) -> bytes:
    with invoice.file.open("rb") as handle:
        return handle.read()


def test_vat_is_the_share_of_a_vat_inclusive_total():
    assert vat_included(Decimal("120.00"), Decimal("0.20")) == Decimal("20.00")
    assert vat_included(Decimal("279.45"), Decimal("0.20")) == Decimal("46.58")
    assert vat_included(Decimal("10.55"), Decimal("0.055")) == Decimal("0.55")


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
    text = pdf_text(read(invoice))

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
        "1\u202f045.00 €",
        "Subtotal",
        "1\u202f156.70 €",
        "Coupon AUTOMNE10",
        "-15.00 €",
        "Total paid",
        "1\u202f141.70 €",
        "of which VAT 20 %",
        "190.28 €",  # 1141.70 * 0.2 / 1.2
        "951.42 €",
        "Page 1 of 1",
    ]:
        assert expected in text, expected


def test_invoice_without_coupon_has_no_coupon_line():
    order = paid_order([("Cuvée Sans Remise", Decimal("12.00"), 1)])
    text = pdf_text(read(invoice_ensure(order_id=order.pk)))
    assert "Coupon" not in text
    assert "of which VAT 20 %" in text
    assert "2.00 €" in text


def test_names_with_markup_characters_are_printed_as_they_are():
    order = paid_order([("Domaine <Tête> & Fils", Decimal("9.00"), 1)], last_name="O'Brien & Co")
    text = pdf_text(read(invoice_ensure(order_id=order.pk)))
    assert "Domaine <Tête> & Fils" in text
    assert "O'Brien & Co" in text


def test_a_300_line_invoice_repeats_the_header_and_numbers_its_pages():
    lines = [(f"{ACCENTED_WINES[n % 3]} lot {n}", Decimal("10.00"), 1) for n in range(300)]
    order = paid_order(lines)
    pages = pdf_pages(read(invoice_ensure(order_id=order.pk)))

    assert len(pages) > 5
    for number, page in enumerate(pages, start=1):
        assert "\n".join(HEADER) in page, number
        assert f"Page {number} of {len(pages)}" in page
    found = {int(n) for n in re.findall(r"SKU-(\d{5})", "\n".join(pages))}
    assert found == set(range(300))
    assert "3\u202f000.00 €" in pages[-1]


def test_invoice_is_made_once_with_one_number():
    order = paid_order()
    first = invoice_ensure(order_id=order.pk)
    second = invoice_ensure(order_id=order.pk)
    assert second.pk == first.pk
    assert second.number == first.number
    assert second.file.name == first.file.name
    assert Invoice.objects.count() == 1
    assert InvoiceSequence.objects.get().last == 1


def test_numbers_follow_each_other_without_gaps():
    orders = [paid_order() for _ in range(4)]
    numbers = [invoice_ensure(order_id=order.pk).sequence for order in reversed(orders)]
    assert numbers == [1, 2, 3, 4]


def test_an_unpaid_order_has_no_invoice_and_takes_no_number():
    order = OrderFactory(status=Order.Status.PENDING)
    with pytest.raises(NotInvoiceable):
        invoice_ensure(order_id=order.pk)
    assert not Invoice.objects.exists()
    assert InvoiceSequence.objects.filter(last__gt=0).count() == 0
    assert invoice_ensure(order_id=paid_order().pk).sequence == 1


def test_regenerating_keeps_the_number_and_shows_the_corrected_details():
    order = paid_order(city="Bordeaux")
    invoice = invoice_ensure(order_id=order.pk)
    old_file = invoice.file.name
    Order.objects.filter(pk=order.pk).update(city="Saint-Émilion")

    again = invoice_regenerate(order_id=order.pk)

    assert (again.pk, again.number, again.issued_at) == (
        invoice.pk,
        invoice.number,
        invoice.issued_at,
    )
    assert "Saint-Émilion" in pdf_text(read(again))
    assert again.file.name != old_file
    assert not again.file.storage.exists(old_file)
    assert InvoiceSequence.objects.get().last == 1
    assert order.events.filter(message__contains="generated again").count() == 1


def pay(order):
    return order_mark_paid(
        order_id=order.pk,
        payment_intent="pi_test_1",
        amount_minor=to_minor_units(order.total, order.currency),
        currency=order.currency,
    )


def test_payment_email_carries_the_invoice_made_once_though_the_task_runs_twice(
    django_capture_on_commit_callbacks,
):
    wine = WineFactory(name=ACCENTED_WINES[1], price=Decimal("18.50"), stock=10)
    with django_capture_on_commit_callbacks(execute=True):
        order = order_place(lines=[(wine.pk, 2)], customer=customer())
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert pay(order)
    invoice = Invoice.objects.get(order=order)
    assert tasks.invoice_ensure.delay(order.pk).get() == invoice.number  # a second delivery

    assert Invoice.objects.count() == 1
    assert InvoiceSequence.objects.get().last == 1
    [message] = mail.outbox
    assert message.subject == f"Order {order.number} confirmed and paid"
    [(filename, content, mimetype)] = message.attachments
    assert (filename, mimetype) == (f"invoice-{invoice.number}.pdf", "application/pdf")
    assert content == read(invoice)
    assert ACCENTED_WINES[1] in pdf_text(content)
    assert f"Your invoice {invoice.number} is attached." in message.body
    assert OrderEmail.objects.get(order=order, kind="payment").sent_at is not None
    assert (
        order.events.filter(kind=OrderEvent.Kind.NOTE, message__startswith="Invoice").count() == 1
    )


def test_the_invoice_task_first_then_the_email_attaches_the_same_invoice():
    order = paid_order()
    email = OrderEmail.objects.create(order=order, kind=OrderEmail.Kind.PAYMENT)
    number = tasks.invoice_ensure.delay(order.pk).get()

    from orders.emails import order_email_send

    assert order_email_send(email_id=email.pk)
    [(filename, _, _)] = mail.outbox[0].attachments
    assert filename == f"invoice-{number}.pdf"
    assert Invoice.objects.count() == 1


def test_an_unpaid_order_gets_neither_email_nor_invoice(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order_place(lines=[(WineFactory(stock=3).pk, 1)], customer=customer())
    assert mail.outbox == []
    assert not Invoice.objects.exists()


def test_staff_with_permission_download_the_invoice(admin_client, django_user_model):
    invoice = invoice_ensure(order_id=paid_order().pk)
    url = reverse("reports:invoice_download", args=[invoice.pk])

    response = admin_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="invoice-{invoice.number}.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == read(invoice)

    client = Client()
    assert client.get(url).status_code == 302  # to the admin login
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(clerk)
    assert client.get(url).status_code == 403
    assert admin_client.get(reverse("reports:invoice_download", args=[999999])).status_code == 404
