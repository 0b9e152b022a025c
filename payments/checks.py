"""Checks of the Stripe configuration, shown by `manage.py check --deploy` and logged at start."""

import logging

from django.conf import settings
from django.core import checks

from payments.stripe_client import is_test_key

logger = logging.getLogger(__name__)

TEST_KEY_IN_PRODUCTION = (
    "STRIPE_SECRET_KEY is a test-mode key (sk_test_...) while DJANGO_DEBUG is off: customers "
    "go through Stripe's test checkout and no payment is real."
)


def production_on_test_key() -> bool:
    return not settings.DEBUG and is_test_key()


@checks.register(checks.Tags.security, deploy=True)
def stripe_key_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if not production_on_test_key():
        return []
    return [
        checks.Warning(
            TEST_KEY_IN_PRODUCTION,
            hint="Set the live key (sk_live_...) where the shop takes real orders.",
            id="payments.W001",
        )
    ]


def warn_of_test_key() -> None:
    """Log the test key at every start of a production process (web, workers, Beat, Flower)."""
    if production_on_test_key():
        logger.warning(TEST_KEY_IN_PRODUCTION)
