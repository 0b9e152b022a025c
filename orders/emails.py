"""Customer emails about orders, kept as an outbox so that each is sent exactly once.

The row that owes an email is written in the same transaction as the change that owes it; the
worker sends it under a row lock and stamps it, so a task delivered twice sends once, and a task
that never reached the broker is queued again by the sweep.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import InterfaceError, OperationalError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from orders.models import Order, OrderEmail, OrderEvent

logger = logging.getLogger(__name__)

TEMPLATES = {
    OrderEmail.Kind.CONFIRMATION: ("emails/order_confirmation", "Your order {number}"),
    # The one email of an order: nothing is mailed before the customer pays.
    OrderEmail.Kind.PAYMENT: ("emails/payment_received", "Order {number} confirmed and paid"),
}


def queue_order_email(*, order_id: int, kind: str) -> OrderEmail:
    """Owe the customer an email; it is queued for a worker once the transaction commits.

    Each kind is owed once per order (a unique constraint): call it from the one state change
    that owes it.
    """
    email = OrderEmail.objects.create(order_id=order_id, kind=kind)
    transaction.on_commit(lambda: enqueue(email.pk))
    if kind == OrderEmail.Kind.PAYMENT:
        # A paid order owes its invoice as well. Whichever task runs first makes it: the
        # payment email makes sure it exists before attaching it.
        from reports.tasks import generate_invoice

        transaction.on_commit(lambda: _publish(generate_invoice, order_id))
    return email


def enqueue(email_id: int) -> bool:
    """Hand the email to the broker; when it is away, leave it to the sweep."""
    from orders.tasks import send_order_email

    return _publish(send_order_email, email_id)


def queue_payment_alert(*, order_id: int) -> None:
    """Alert staff about the order's payment once the transaction commits."""
    from orders.tasks import alert_payment_flagged

    transaction.on_commit(lambda: _publish(alert_payment_flagged, order_id))


def _publish(task, *args) -> bool:
    try:
        task.apply_async(args=list(args), retry=False)
    except Exception:  # any broker or network failure: the order's state is already saved
        logger.warning("Broker unavailable: %s%s was not queued.", task.name, args)
        return False
    return True


def build_message(email: OrderEmail, *, invoice=None) -> EmailMultiAlternatives:
    order = email.order
    template, subject = TEMPLATES[email.kind]
    context = {
        "order": order,
        "items": list(order.items.all()),
        "invoice": invoice,
        "shop_name": settings.SHOP_NAME,
    }
    message = EmailMultiAlternatives(
        subject=subject.format(number=order.number),
        body=render_to_string(f"{template}.txt", context),
        to=[f"{order.customer_name} <{order.email}>"],
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    if invoice is not None:
        with invoice.file.open("rb") as pdf:
            message.attach(invoice.filename, pdf.read(), "application/pdf")
    return message


def _invoice_for(email_id: int):
    """Return the invoice a payment email carries, made now if its task has not run yet.

    Made before the email's row is locked, so that the year's invoice counter is never held
    while a message goes out over SMTP.
    """
    from reports.services import invoice_ensure

    email = OrderEmail.objects.filter(pk=email_id, sent_at__isnull=True).select_related("order")
    email = email.first()
    if email is None or email.kind != OrderEmail.Kind.PAYMENT or email.order.paid_at is None:
        return None
    return invoice_ensure(order_id=email.order_id)


def _locked(email_id: int) -> OrderEmail | None:
    return (
        OrderEmail.objects.select_for_update().select_related("order").filter(pk=email_id)
    ).first()


def _record_sent(email: OrderEmail) -> None:
    email.sent_at = timezone.now()
    email.save(update_fields=["sent_at"])
    OrderEvent.objects.create(
        order=email.order,
        kind=OrderEvent.Kind.EMAIL,
        message=f"{email.get_kind_display()} sent to {email.order.email}.",
    )


def send_order_email(*, email_id: int) -> bool:
    """Send the email unless it was sent already; return whether this call sent it."""
    invoice = _invoice_for(email_id)
    sent = False
    try:
        with transaction.atomic():
            email = _locked(email_id)
            if email is None or email.sent_at is not None:  # gone with its order, or sent
                return False
            build_message(email, invoice=invoice).send()
            sent = True
            _record_sent(email)
    except (OperationalError, InterfaceError):
        if not sent:
            raise
        # The message left but the database connection was cut before the stamp: stamp it on
        # a new connection now, or a retry would send it a second time.
        logger.warning("Database connection lost after sending email %s; stamping again.", email_id)
        with transaction.atomic():
            email = _locked(email_id)
            if email is not None and email.sent_at is None:
                _record_sent(email)
    return True


def send_pending_emails(*, limit: int = 500) -> int:
    """Queue again the emails still unsent a while after they were owed; return how many."""
    cutoff = timezone.now() - timedelta(minutes=settings.EMAIL_RETRY_AFTER_MINUTES)
    pending = OrderEmail.objects.filter(sent_at__isnull=True, created__lt=cutoff)
    ids = list(pending.order_by("created").values_list("pk", flat=True)[:limit])
    return sum(enqueue(email_id) for email_id in ids)


def alert_payment_flagged(*, order_id: int) -> int:
    """Tell staff that an order's payment needs attention; return the number of recipients."""
    from backoffice.alerts import send_staff_alert

    order = Order.objects.get(pk=order_id)
    return send_staff_alert(
        subject=f"Payment of order {order.number} needs attention",
        template="emails/payment_flagged",
        context={"order": order},
    )
