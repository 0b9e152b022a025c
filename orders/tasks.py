from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from orders import emails, link_emails, services

# Network, SMTP and database connection failures pass; retrying them with growing pauses is
# safe because sending is idempotent (see orders.emails).
TRANSIENT = (SMTPException, ConnectionError, TimeoutError, OSError)
TRANSIENT += (OperationalError, InterfaceError)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,  # the database, or storage while making the invoice it carries
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=10,
)
def order_email_send(self, email_id: int) -> bool:
    try:
        return emails.order_email_send(email_id=email_id)
    except emails.EmailDeferred as deferred:
        # The email counts its own attempts and fails for good after EMAIL_MAX_ATTEMPTS; the
        # sweep takes it up again should this retry be lost.
        raise self.retry(exc=deferred, countdown=deferred.retry_in, max_retries=None) from None


@shared_task(acks_late=True, reject_on_worker_lost=True)
def order_email_send_pending() -> int:
    return emails.order_email_send_pending()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def order_expire_unpaid() -> int:
    return services.order_expire_unpaid(
        unpaid_minutes=settings.ORDER_UNPAID_EXPIRY_MINUTES,
        unreached_minutes=settings.ORDER_UNREACHED_HOLD_MINUTES,
    )


@shared_task(autoretry_for=TRANSIENT, retry_backoff=30, max_retries=5)
def order_payment_alert(order_id: int) -> int:
    return emails.order_payment_alert(order_id=order_id)


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=30, max_retries=5)
def order_email_failure_alert(email_id: int) -> int:
    return emails.order_email_failure_alert(email_id=email_id)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=30, max_retries=5)
def order_link_send(order_id: int) -> None:
    link_emails.order_link_send(order_id=order_id)
