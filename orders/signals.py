"""What happens to orders, for the apps above orders to react to (they connect in ready())."""

from functools import partial

from django.db import transaction
from django.dispatch import Signal

from orders.models import Order, Refund

# An unpaid order gave up its bottles (expired, or canceled before payment): nothing may be paid
# for it any more. Sent once the change is committed, with order_id and stripe_session_id (""
# when the customer never reached Stripe's page).
order_released = Signal()


def announce_released(order: Order) -> None:
    """Send order_released for the order when the current transaction commits."""
    # Robust: a receiver's failure (a broker away) is logged and never undoes the release.
    transaction.on_commit(
        partial(
            order_released.send_robust,
            sender=Order,
            order_id=order.pk,
            stripe_session_id=order.stripe_session_id,
        )
    )


# An order became paid. Sent once the payment is committed, with order_id; the payment email
# it owes was queued in the same transaction.
order_paid = Signal()


def announce_paid(order: Order) -> None:
    """Send order_paid for the order when the current transaction commits."""
    # Robust, as for order_released: a receiver's failure never undoes the payment.
    transaction.on_commit(partial(order_paid.send_robust, sender=Order, order_id=order.pk))


# A refund was written, pending: Stripe is to be asked for the money. Sent once the refund is
# committed, with refund_id and order_id.
refund_requested = Signal()


def announce_refund_requested(refund: Refund) -> None:
    """Send refund_requested for the refund when the current transaction commits."""
    # Robust: a broker away never undoes the refund; it stays pending for the reconciliation.
    transaction.on_commit(
        partial(
            refund_requested.send_robust,
            sender=Refund,
            refund_id=refund.pk,
            order_id=refund.order_id,
        )
    )


# A refund succeeded: the money is given back (an external refund, made in Stripe's dashboard,
# succeeded when it is recorded). Sent once, when that is committed, with refund_id and order_id.
refund_succeeded = Signal()


def announce_refund_succeeded(refund: Refund) -> None:
    """Send refund_succeeded for the refund when the current transaction commits."""
    transaction.on_commit(
        partial(
            refund_succeeded.send_robust,
            sender=Refund,
            refund_id=refund.pk,
            order_id=refund.order_id,
        )
    )
