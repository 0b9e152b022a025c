from django.apps import AppConfig

from core.queue import publish


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
    publish(checkout_session_expire, order_id, meanwhile="the session stays open until it lapses")


def _submit_refund(sender, *, refund_id: int, order_id: int, **kwargs) -> None:
    """Send the refund just written to Stripe, from a worker."""
    from payments.tasks import refund_submit

    publish(refund_submit, refund_id, meanwhile="the refund waits for the reconciliation")
