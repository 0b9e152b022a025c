"""What payments reads of orders: the order a Stripe object names, the orders to ask Stripe about.

Orders are changed by orders' services only.
"""

from datetime import datetime

from django.db.models import Exists, OuterRef, QuerySet, Value
from django.db.models.functions import Concat

from orders.models import Order, OrderEvent, Refund
from payments.models import StripeEvent

# The start of the note left on an order whose session Stripe does not know; the session's id
# follows, so the note is written once per session.
MISSING_SESSION_NOTE = "Stripe no longer knows Checkout Session "


def order_of_checkout_session(*, session: dict) -> Order | None:
    """Return the order a Checkout Session was made for, if its id and number agree."""
    reference = str(session.get("client_reference_id") or "")
    if not reference.isascii() or not reference.isdigit() or len(reference) > 18:
        return None
    order = Order.objects.filter(pk=int(reference)).first()
    metadata = session.get("metadata")
    number = metadata.get("order_number") if isinstance(metadata, dict) else None
    if order is None or (number and number != order.number):
        return None
    return order


def order_of_payment_intent(*, payment_intent: dict) -> Order | None:
    """Return the order a Checkout Session's PaymentIntent was made for, by the id and number
    the session passed into its metadata, if they agree."""
    metadata = payment_intent.get("metadata")
    if not isinstance(metadata, dict):
        return None
    reference, number = str(metadata.get("order_id") or ""), metadata.get("order_number")
    if not reference.isascii() or not reference.isdigit() or len(reference) > 18:
        return None
    order = Order.objects.filter(pk=int(reference)).first()
    if order is None or number != order.number:
        return None
    return order


def order_of_payment(*, payment_intent: str) -> Order | None:
    """Return the order paid with the Stripe payment (PaymentIntent), if any."""
    if not payment_intent:
        return None
    return Order.objects.filter(payment_intent=payment_intent).first()


def order_get(*, order_id: int) -> Order | None:
    return Order.objects.filter(pk=order_id).first()


def orders_to_reconcile(*, placed_before: datetime) -> QuerySet[Order]:
    """Return the pending orders placed before placed_before that were sent to Stripe Checkout,
    by id; a session Stripe said it does not know (noted on the order) is not asked about
    again."""
    return (
        Order.objects.filter(status=Order.Status.PENDING, created__lt=placed_before)
        .exclude(stripe_session_id="")
        .exclude(
            Exists(
                OrderEvent.objects.filter(
                    order=OuterRef("pk"),
                    kind=OrderEvent.Kind.NOTE,
                    message__startswith=Concat(
                        Value(MISSING_SESSION_NOTE), OuterRef("stripe_session_id")
                    ),
                )
            )
        )
        .order_by("pk")
    )


def refunds_to_reconcile(*, created_before: datetime) -> QuerySet[Refund]:
    """Return the staff refunds still pending that were written before created_before, oldest
    first, with their orders."""
    return (
        Refund.objects.filter(
            kind=Refund.Kind.STAFF, status=Refund.Status.PENDING, created__lt=created_before
        )
        .select_related("order")
        .order_by("pk")
    )


def waiting_events(*, received_before: datetime) -> QuerySet:
    """Return the ids of the stored Stripe events not applied yet, received before the time,
    oldest first."""
    return (
        StripeEvent.objects.filter(
            outcome=StripeEvent.Outcome.RECEIVED, received__lt=received_before
        )
        .order_by("received", "pk")
        .values_list("pk", flat=True)
    )
