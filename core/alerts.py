"""Alerts for the shop's staff."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from core.mail import email_context


def staff_recipients() -> list[str]:
    """Return STAFF_ALERT_EMAILS, or else every active staff member's address."""
    if settings.STAFF_ALERT_EMAILS:
        return list(settings.STAFF_ALERT_EMAILS)
    users = get_user_model().objects.filter(is_active=True, is_staff=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def send_staff_alert(*, subject: str, template: str, context: dict) -> int:
    """Email staff from templates/<template>.txt and .html; return the number of recipients.

    Written in ADMIN_LANGUAGE, the back office's, whatever language the worker last spoke.
    """
    recipients = staff_recipients()
    if not recipients:
        return 0
    context = {**email_context(), **context}
    with translation.override(settings.ADMIN_LANGUAGE):
        message = EmailMultiAlternatives(
            subject=f"[{settings.SHOP_NAME}] {subject}",
            body=render_to_string(f"{template}.txt", context),
            to=recipients,
        )
        message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    message.send()
    return len(recipients)
