"""Secrets production must set: refused when missing or still holding .env.example's placeholder.

Every secret in .env.example reads ``change-me`` somewhere in its value (a password in a URL, the
whole key), so one rule recognises a copied file that was never filled in, with no second list of
values to keep in step with the file.
"""

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

MARKER = "change-me"
# Without these, production has nothing to fall back on but values anyone can read.
REQUIRED = ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "STRIPE_WEBHOOK_SECRET")
# Secrets, and addresses that carry a password, .env.example gives a placeholder.
SECRETS = (
    "DJANGO_SECRET_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "FLOWER_BASIC_AUTH",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "EMAIL_URL",
)


def is_placeholder(value: str) -> bool:
    return MARKER in value.lower()


def production_secrets_check(read: Callable[[str], str]) -> None:
    """Raise ImproperlyConfigured naming each secret that is missing or a placeholder.

    ``read`` returns a variable's value ("" when unset).
    """
    missing = [name for name in REQUIRED if not read(name)]
    if missing:
        raise ImproperlyConfigured(
            f"Set {' and '.join(missing)} in the environment (see .env.example): production "
            "(DJANGO_DEBUG off) has no default for them. Set DJANGO_DEBUG=1 for local development."
        )
    placeholders = [name for name in SECRETS if is_placeholder(read(name))]
    if placeholders:
        raise ImproperlyConfigured(
            f"{' and '.join(placeholders)} still hold{'s' if len(placeholders) == 1 else ''} "
            f"the placeholder of .env.example ({MARKER!r}): production (DJANGO_DEBUG off) "
            "refuses to start with it. Set the real value."
        )
