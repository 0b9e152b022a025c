from smtplib import SMTPException

from celery import shared_task

from backoffice.alerts import send_staff_alert
from shop.selectors import low_stock_wines


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=30, max_retries=5)
def low_stock_alert() -> int:
    """Tell staff which wines are running low; return how many."""
    wines = list(low_stock_wines())
    if wines:
        send_staff_alert(
            subject=f"{len(wines)} wines running low",
            template="emails/low_stock",
            context={"wines": wines},
        )
    return len(wines)
