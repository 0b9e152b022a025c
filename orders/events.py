"""The order's timeline: every event is written here, by the orders services that cause it."""

from orders.models import OrderEvent

# The start of the timeline entry of a card Stripe declined: the customer's timeline shows it.
CARD_DECLINED = "Card declined: "


def order_event_record(
    *,
    order_id: int,
    kind: str,
    message: str,
    actor=None,
    from_status: str = "",
    to_status: str = "",
) -> OrderEvent:
    """Add an event to the order's timeline, inside the caller's transaction."""
    return OrderEvent.objects.create(
        order_id=order_id,
        kind=kind,
        message=message,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
    )
