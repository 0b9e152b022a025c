from django.apps import AppConfig
from django.utils.translation import gettext

from core.queue import publish


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self):
        from orders.emails import register_attachment
        from orders.models import OrderEmail
        from orders.signals import order_paid, refund_succeeded

        order_paid.connect(_queue_invoice, dispatch_uid="reports-queue-invoice")
        refund_succeeded.connect(_queue_credit_note, dispatch_uid="reports-queue-credit-note")
        register_attachment(_invoice_attachment, kind=OrderEmail.Kind.PAYMENT)
        register_attachment(_credit_note_attachment, kind=OrderEmail.Kind.REFUND)


def _queue(task, object_id: int) -> None:
    publish(task, object_id, meanwhile="the email that carries the document makes it")


def _queue_invoice(sender, *, order_id: int, **kwargs) -> None:
    """Queue the paid order's invoice. Whichever runs first makes it, this task or the payment
    email, which makes sure it exists before attaching it."""
    from reports.tasks import invoice_ensure

    _queue(invoice_ensure, order_id)


def _queue_credit_note(sender, *, refund_id: int, **kwargs) -> None:
    """Queue the succeeded refund's credit note. Whichever runs first makes it, this task or
    the refund email, which makes sure it exists before attaching it."""
    from reports.tasks import credit_note_ensure

    _queue(credit_note_ensure, refund_id)


def _pdf(document, note: str):
    from orders.emails import Attachment

    with document.file.open("rb") as pdf:
        content = pdf.read()
    return Attachment(document.filename, content, "application/pdf", note)


def _invoice_attachment(email):
    """Return the paid order's invoice as the payment email's attachment, made now if needed."""
    from reports.services import invoice_ensure

    if email.order.paid_at is None:
        return None
    invoice = invoice_ensure(order_id=email.order_id)
    note = gettext("Your invoice %(number)s is attached.") % {"number": invoice.number}
    return _pdf(invoice, note)


def _credit_note_attachment(email):
    """Return the refund's credit note as the refund email's attachment, made now if needed."""
    from orders.models import Refund
    from reports.services import credit_note_ensure

    if email.refund is None or email.refund.status != Refund.Status.SUCCEEDED:
        return None
    credit_note = credit_note_ensure(refund_id=email.refund_id)
    note = gettext("Your credit note %(number)s is attached.") % {"number": credit_note.number}
    return _pdf(credit_note, note)
