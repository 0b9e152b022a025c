import logging

from django.apps import AppConfig

logger = logging.getLogger(__name__)


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self):
        from orders.signals import order_released
        from payments import checks

        checks.warn_of_test_key()
        order_released.connect(_expire_checkout_session, dispatch_uid="payments-expire-session")


def _expire_checkout_session(sender, *, order_id: int, stripe_session_id: str, **kwargs) -> None:
    """Close the released order's Checkout Session at Stripe, so its page can't be paid."""
    from payments.tasks import checkout_session_expire

    if not stripe_session_id:  # never sent to Stripe: nothing to close
        return
    try:
        checkout_session_expire.apply_async(args=[order_id], retry=False)
    except Exception:  # a broker away: the session still lapses on its own at its expiry
        logger.warning(
            "Broker unavailable: the Checkout Session of order id %s stays open until it lapses.",
            order_id,
        )
