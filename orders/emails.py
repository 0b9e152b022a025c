"""Customer emails about orders, kept as an outbox so that each is sent exactly once.

The row that owes an email is written in the same transaction as the change that owes it; the
worker sends it under a row lock and stamps it, so a task delivered twice sends once, and a task
that never reached the broker is queued again by the sweep.
"""

import logging
from collections.abc import Callable
from datetime import timedelta
from smtplib import SMTPDataError, SMTPException, SMTPRecipientsRefused
from typing import NamedTuple

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from core.mail import email_context, mailbox
from core.queue import publish
from orders.carriers import tracking_url
from orders.events import order_event_record
from orders.links import order_link_url
from orders.models import Order, OrderEmail, OrderEvent

logger = logging.getLogger(__name__)

TEMPLATES = {
    OrderEmail.Kind.CONFIRMATION: ("emails/order_confirmation", _("Your order %(number)s")),
    # The one email of an order: nothing is mailed before the customer pays.
    OrderEmail.Kind.PAYMENT: (
        "emails/payment_received",
        _("Order %(number)s confirmed and paid"),
    ),
    # With the credit note attached (reports registers it).
    OrderEmail.Kind.REFUND: ("emails/refund_issued", _("Refund for order %(number)s")),
    # With the carrier's tracking link when there is one; a click & collect order is ready.
    OrderEmail.Kind.SHIPPED: ("emails/order_shipped", _("Your order %(number)s is on its way")),
}
COLLECT_SUBJECT = _("Your order %(number)s is ready for collection")


def order_language(order: Order) -> str:
    """Return the language the customer's emails about the order speak: the one they ordered
    in."""
    return order.language or settings.LANGUAGE_CODE


def order_email_queue(*, order_id: int, kind: str, refund_id: int | None = None) -> OrderEmail:
    """Owe the customer an email; it is queued for a worker once the transaction commits.

    Each kind is owed once per order, a refund notice once per refund (unique constraints):
    call it from the one state change that owes it.
    """
    email = OrderEmail.objects.create(order_id=order_id, kind=kind, refund_id=refund_id)
    transaction.on_commit(lambda: order_email_publish(email.pk))
    return email


def order_email_publish(email_id: int) -> bool:
    """Hand the email to the broker; when it is away, leave it to the sweep."""
    from orders import tasks

    return publish(tasks.order_email_send, email_id)


def order_payment_alert_queue(*, order_id: int) -> None:
    """Alert staff about the order's payment once the transaction commits."""
    from orders import tasks

    transaction.on_commit(lambda: publish(tasks.order_payment_alert, order_id))


class Attachment(NamedTuple):
    """A file an email carries, with the sentence its body says about it."""

    filename: str
    content: bytes
    mimetype: str
    note: str = ""


# What the apps above orders attach to an order's email, by the email's kind: each provider
# takes the email (an OrderEmail, with its order and its refund) and returns its attachment, or
# None when it has none for it. The apps add theirs in their AppConfig.ready
# (register_attachment).
Provider = Callable[[OrderEmail], Attachment | None]
attachment_providers: dict[str, list[Provider]] = {}


def register_attachment(provider: Provider, *, kind: str) -> None:
    """Attach what the provider returns to each email of that kind; registering twice is once."""
    providers = attachment_providers.setdefault(kind, [])
    if provider not in providers:
        providers.append(provider)


def build_message(email: OrderEmail, *, attachments=()) -> EmailMultiAlternatives:
    """Write the email in the order's language, whatever the worker's active one."""
    with translation.override(order_language(email.order)):
        return _message(email, attachments)


def _message(email: OrderEmail, attachments) -> EmailMultiAlternatives:
    from orders.selectors import order_totals  # it reads refunds, which queue their emails here

    order = email.order
    template, subject = TEMPLATES[email.kind]
    collect = order.collected
    if email.kind == OrderEmail.Kind.SHIPPED and collect:
        subject = COLLECT_SUBJECT
    context = {
        "order": order,
        "items": list(order.items.all()),
        # Wine, coupon, delivery, total and VAT, as the order's page shows them.
        "amount_lines": order_totals(order),
        "refund": email.refund,
        "refund_lines": list(email.refund.lines.select_related("item")) if email.refund else [],
        "attachments": attachments,
        **email_context(),
        # Every email leads back to the order's page, from any device.
        "order_url": order_link_url(number=order.number),
        "collect": collect,
        "tracking_url": tracking_url(order.carrier, order.tracking_number),
    }
    message = EmailMultiAlternatives(
        subject=subject % {"number": order.number},
        body=render_to_string(f"{template}.txt", context),
        to=[mailbox(order.customer_name, order.email)],
        reply_to=[settings.SHOP_CONTACT_EMAIL],
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    for attachment in attachments:
        message.attach(attachment.filename, attachment.content, attachment.mimetype)
    return message


def _owed(email_id: int) -> OrderEmail | None:
    """Return the email with its order while it is owed still, read without a lock: what the
    message says is read here, whether it may go is decided by the claim (_claim)."""
    owed = OrderEmail.objects.select_related("order")
    try:
        return owed.get(pk=email_id, sent_at__isnull=True, failed_at__isnull=True)
    except OrderEmail.DoesNotExist:
        return None  # gone with its order, sent, or given up


def _attachments_for(email: OrderEmail) -> list[Attachment]:
    """Return what the email carries, made now by its providers if it does not exist yet.

    Made before the email's row is locked, so that what a provider locks to make its file (the
    year's invoice counter) is never held while a message goes out over SMTP.
    """
    providers = attachment_providers.get(email.kind, [])
    if not providers:
        return []
    # What the email says about its attachments is in its language too.
    with translation.override(order_language(email.order)):
        return [a for a in (provider(email) for provider in providers) if a is not None]


def _claim(email: OrderEmail) -> bool:
    """Stamp the email sent and count the attempt if it may go now; False if it is gone, sent,
    given up, or waiting for a retry already planned.

    One conditional UPDATE, whose row lock holds until the transaction ends: of two workers
    handed the same email, the second waits and then finds it sent. A send that fails takes the
    stamp back in the same transaction (_record_failure).
    """
    now = timezone.now()
    may_go = Q(retry_at__isnull=True) | Q(retry_at__lte=now)
    claimed = OrderEmail.objects.filter(
        may_go, pk=email.pk, sent_at__isnull=True, failed_at__isnull=True
    ).update(sent_at=now, attempts=F("attempts") + 1)
    if claimed:
        email.sent_at = now
    return bool(claimed)


def _locked(email_id: int) -> OrderEmail | None:
    return (
        OrderEmail.objects.select_for_update().select_related("order").filter(pk=email_id)
    ).first()


def _record_sent(email: OrderEmail) -> None:
    order_event_record(
        order_id=email.order_id,
        kind=OrderEvent.Kind.EMAIL,
        message=f"{email.get_kind_display()} sent to {email.order.email}.",
    )


class EmailDeferred(Exception):
    """The mail server could not take the email now; it is owed still, to be tried again."""

    def __init__(self, reason: str, retry_in: int):
        super().__init__(reason)
        self.retry_in = retry_in


# What a send can raise that is about the mail and not about our database: the server's
# answers (SMTPException), the network (OSError), and an address or header no server would
# take (ValueError, which Django raises for them).
SEND_ERRORS = (SMTPException, OSError, ValueError)


def _refused_for_good(error: Exception) -> bool:
    """Return whether sending the same message again can only fail the same way."""
    if isinstance(error, SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, SMTPDataError):
        return error.smtp_code >= 500
    # An address or header Django refuses to write (BadHeaderError is a ValueError too).
    return isinstance(error, ValueError)


def _reason(error: Exception) -> str:
    if isinstance(error, SMTPRecipientsRefused):
        answers = [
            f"{code} {message.decode(errors='replace')}"
            for code, message in error.recipients.values()
        ]
        return ("Recipient refused: " + "; ".join(answers))[:1000]
    return f"{type(error).__name__}: {error}"[:1000]


def retry_delay(attempts: int) -> int:
    """Return the seconds to wait after the attempts so far, doubling up to an hour."""
    # Never less than half a minute, so that a server that is down is not hammered.
    first = max(settings.EMAIL_RETRY_AFTER_MINUTES * 60, 30)
    return min(first * 2 ** max(attempts - 1, 0), 3600)


def _record_failure(email: OrderEmail, error: Exception) -> EmailDeferred | None:
    """Take the claim's stamp back; mark the email failed when it can never go (after the
    attempts the claims counted), else say when to retry."""
    reason = _reason(error)
    # The claim's stamp is taken back, and the attempts read as it counted them.
    email.sent_at, email.failure_reason = None, reason
    email.attempts = OrderEmail.objects.values_list("attempts", flat=True).get(pk=email.pk)
    if _refused_for_good(error) or email.attempts >= settings.EMAIL_MAX_ATTEMPTS:
        email.failed_at, email.retry_at = timezone.now(), None
        email.save(update_fields=["sent_at", "failure_reason", "failed_at", "retry_at"])
        order_event_record(
            order_id=email.order_id,
            kind=OrderEvent.Kind.EMAIL_FAILED,
            message=f"{email.get_kind_display()} to {email.order.email} failed after "
            f"{email.attempts} attempt(s), not tried again: {reason}",
        )
        logger.warning("Email %s failed for good: %s", email.pk, reason)
        transaction.on_commit(lambda: _publish_failure_alert(email.pk))
        return None
    delay = retry_delay(email.attempts)
    email.retry_at = timezone.now() + timedelta(seconds=delay)
    email.save(update_fields=["sent_at", "failure_reason", "retry_at"])
    deferred = EmailDeferred(reason, retry_in=delay)
    deferred.__cause__ = error  # raised once the attempt is saved, with the server's error
    return deferred


def _publish_failure_alert(email_id: int) -> bool:
    from orders import tasks

    return publish(tasks.order_email_failure_alert, email_id)


def order_email_send(*, email_id: int) -> bool:
    """Send the email unless it was sent already or failed; return whether this call sent it.

    A mail server that defers it counts an attempt and raises EmailDeferred with the pause to
    keep before the next; after EMAIL_MAX_ATTEMPTS, or at once when the server refuses the
    recipient, the email is marked failed, staff are alerted, and it is never tried again.
    """
    email = _owed(email_id)
    if email is None:
        return False
    # Written before the row is locked, so that the lock (SQLite's, the whole database's) is
    # held for the send alone; an address no server would take is recorded as the send's error.
    message, unwritable = None, None
    try:
        message = build_message(email, attachments=_attachments_for(email))
    except SEND_ERRORS as error:
        unwritable = error
    sent = False
    deferred = None
    try:
        with transaction.atomic():
            if not _claim(email):
                return False  # gone, sent or given up meanwhile, or tried a moment ago
            try:
                if unwritable is not None:
                    raise unwritable
                message.send()
            except SEND_ERRORS as error:
                deferred = _record_failure(email, error)
            else:
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
                email.sent_at, email.attempts = timezone.now(), email.attempts + 1
                email.save(update_fields=["sent_at", "attempts"])
                _record_sent(email)
    if deferred is not None:
        raise deferred
    return sent


def order_email_send_pending(*, limit: int = 500) -> int:
    """Queue again the emails still owed a while after they were owed; return how many.

    Failed emails are left out, and the least tried come first: emails the server keeps
    deferring wait for their pause behind the ones never tried, so they can't hold up the rest.
    Failed emails whose staff alert was never sent are queued for it again.
    """
    now = timezone.now()
    cutoff = now - timedelta(minutes=settings.EMAIL_RETRY_AFTER_MINUTES)
    due = OrderEmail.objects.filter(
        Q(retry_at__isnull=True) | Q(retry_at__lte=now),
        sent_at__isnull=True,
        failed_at__isnull=True,
        created__lt=cutoff,
    )
    ids = list(due.order_by("attempts", "created", "id").values_list("pk", flat=True)[:limit])
    unalerted = OrderEmail.objects.filter(
        failed_at__isnull=False, failed_at__lt=cutoff, staff_alerted_at__isnull=True
    )
    for email_id in unalerted.order_by("failed_at").values_list("pk", flat=True)[:limit]:
        _publish_failure_alert(email_id)
    return sum(order_email_publish(email_id) for email_id in ids)


RETRY_FIELDS = ["failed_at", "retry_at", "staff_alerted_at", "attempts", "failure_reason"]


def order_email_retry_failed(*, order_ids, actor) -> int:
    """Owe again the failed emails of these orders, once their address is corrected; return how
    many are queued."""
    with transaction.atomic():
        failed = OrderEmail.objects.select_for_update().select_related("order")
        failed = list(failed.filter(order_id__in=order_ids, failed_at__isnull=False))
        for email in failed:
            email.failed_at = email.retry_at = email.staff_alerted_at = None
            email.attempts, email.failure_reason = 0, ""
            email.save(update_fields=RETRY_FIELDS)
            order_event_record(
                order_id=email.order_id,
                kind=OrderEvent.Kind.NOTE,
                message=f"{email.get_kind_display()} to be sent again to {email.order.email}.",
                actor=actor,
            )
            transaction.on_commit(lambda pk=email.pk: order_email_publish(pk))
    return len(failed)


def order_email_failure_alert(*, email_id: int) -> int:
    """Tell staff, once, that an order email failed for good; return the number of recipients."""
    from core.alerts import send_staff_alert

    with transaction.atomic():
        email = _locked(email_id)
        if email is None or email.failed_at is None or email.staff_alerted_at is not None:
            return 0
        try:
            recipients = send_staff_alert(
                subject=f"Email for order {email.order.number} could not be sent",
                template="emails/email_failed",
                context={"email": email, "order": email.order},
            )
        except SEND_ERRORS as error:
            if not _refused_for_good(error):
                raise  # the task tries again
            # A staff address the server refuses would refuse every retry as well.
            logger.error("Staff alert about email %s refused: %s", email_id, _reason(error))
            recipients = 0
        email.staff_alerted_at = timezone.now()
        email.save(update_fields=["staff_alerted_at"])
    return recipients


def order_payment_alert(*, order_id: int) -> int:
    """Tell staff that an order's payment needs attention; return the number of recipients."""
    from core.alerts import send_staff_alert

    order = Order.objects.get(pk=order_id)
    return send_staff_alert(
        subject=f"Payment of order {order.number} needs attention",
        template="emails/payment_flagged",
        context={"order": order},
    )
