import logging

from django.apps import AppConfig

logger = logging.getLogger(__name__)


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self):
        from orders.emails import register_attachment
        from orders.models import OrderEmail
        from orders.signals import order_paid

        order_paid.connect(_queue_invoice, dispatch_uid="reports-queue-invoice")
        register_attachment(_invoice_attachment, kind=OrderEmail.Kind.PAYMENT)


def _queue_invoice(sender, *, order_id: int, **kwargs) -> None:
    """Queue the paid order's invoice. Whichever runs first makes it, this task or the payment
    email, which makes sure it exists before attaching it."""
    from reports.tasks import invoice_ensure

    try:
        invoice_ensure.apply_async(args=[order_id], retry=False)
    except Exception:  # a broker away: the payment email makes the invoice when it is sent
        logger.warning("Broker unavailable: %s(%s,) was not queued.", invoice_ensure.name, order_id)


def _invoice_attachment(order):
    """Return the paid order's invoice as the payment email's attachment, made now if needed."""
    from orders.emails import Attachment
    from reports.services import invoice_ensure

    if order.paid_at is None:
        return None
    invoice = invoice_ensure(order_id=order.pk)
    with invoice.file.open("rb") as pdf:
        content = pdf.read()
    note = f"Your invoice {invoice.number} is attached."
    return Attachment(invoice.filename, content, "application/pdf", note)
