import logging

from django.apps import AppConfig

logger = logging.getLogger(__name__)


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self):
        from orders.signals import order_released, refund_requested
        from payments import checks

        checks.warn_of_test_key()
        order_released.connect(_expire_checkout_session, dispatch_uid="payments-expire-session")
        refund_requested.connect(_submit_refund, dispatch_uid="payments-submit-refund")


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


def _submit_refund(sender, *, refund_id: int, order_id: int, **kwargs) -> None:
    """Send the refund just written to Stripe, from a worker."""
    from payments.tasks import refund_submit

    try:
        refund_submit.apply_async(args=[refund_id], retry=False)
    except Exception:  # a broker away: the refund stays pending for the reconciliation
        logger.warning(
            "Broker unavailable: refund id %s of order id %s waits for the reconciliation.",
            refund_id,
            order_id,
        )
