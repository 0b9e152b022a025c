"""Reports connects to orders: a paid order's invoice is queued, and attached to its payment
email, made once whichever comes first; so is a succeeded refund's credit note, attached to its
refund email."""

from decimal import Decimal

import pytest
from django.core import mail

from core.money import to_minor_units
from orders.models import OrderEmail, OrderEvent
from orders.services import order_mark_paid
from orders.tests.factories import customer, place
from reports import tasks
from reports.models import CreditNote, CreditNoteSequence, Invoice, InvoiceSequence
from reports.tests.factories import ACCENTED_WINES, paid_order, refunded
from reports.tests.pdf import pdf_text, read_invoice
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db


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
        order = place(lines=[(wine.pk, 2)], customer=customer())
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
    assert content == read_invoice(invoice)
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
        place(lines=[(WineFactory(stock=3).pk, 1)], customer=customer())
    assert mail.outbox == []
    assert not Invoice.objects.exists()


def test_a_refund_email_carries_the_credit_note_made_once_though_the_task_runs_twice(
    django_capture_on_commit_callbacks,
):
    order = paid_order(((ACCENTED_WINES[0], Decimal("30.00"), 3),), first_name="Zoë")
    with django_capture_on_commit_callbacks(execute=True):
        refund = refunded(order, (0, 1))
    credit_note = CreditNote.objects.get(refund=refund)
    assert tasks.credit_note_ensure.delay(refund.pk).get() == credit_note.number  # again

    assert CreditNoteSequence.objects.get().last == 1
    [message] = mail.outbox
    assert message.subject == f"Refund for order {order.number}"
    [(filename, content, mimetype)] = message.attachments
    assert (filename, mimetype) == (f"credit-note-{credit_note.number}.pdf", "application/pdf")
    assert content == read_invoice(credit_note)
    assert ACCENTED_WINES[0] in pdf_text(content) and "Zoë" in pdf_text(content)
    assert f"Your credit note {credit_note.number} is attached." in message.body


def test_a_french_order_is_told_of_its_refund_and_its_credit_note_in_french(
    django_capture_on_commit_callbacks,
):
    order = paid_order(((ACCENTED_WINES[0], Decimal("30.00"), 3),), language="fr")
    with django_capture_on_commit_callbacks(execute=True):
        refund = refunded(order, (0, 1))
    credit_note = CreditNote.objects.get(refund=refund)

    [message] = mail.outbox
    assert message.subject == f"Remboursement de la commande {order.number}"
    assert "Nous vous avons remboursé 30,00\u00a0€ sur votre commande" in message.body
    assert "Montant remboursé\u00a0: 30,00\u00a0€" in message.body
    assert f"Votre avoir {credit_note.number} est joint à cet e-mail." in message.body
    assert f"Votre avoir {credit_note.number} est joint" in message.alternatives[0][0]


def test_a_refund_while_the_broker_is_away_gets_its_credit_note_with_its_email(
    django_capture_on_commit_callbacks, caplog
):
    from backoffice.tests.workers import broker_away
    from orders.emails import order_email_send

    order = paid_order()
    with broker_away(), django_capture_on_commit_callbacks(execute=True):
        refund = refunded(order, (0, 2))
    assert "credit_note_ensure" in caplog.text and "was not queued" in caplog.text
    assert not CreditNote.objects.exists() and mail.outbox == []

    email = OrderEmail.objects.get(refund=refund)
    assert order_email_send(email_id=email.pk)  # the sweep's delivery, once the broker is back
    credit_note = CreditNote.objects.get()
    [(filename, _, _)] = mail.outbox[0].attachments
    assert filename == credit_note.filename
