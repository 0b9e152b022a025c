from core.exceptions import DomainError


class PaymentError(DomainError):
    """A payment step could not go ahead; the message is safe to show."""


class CheckoutUnavailable(PaymentError):
    """Stripe did not open a Checkout Session (away, too slow or refusing): the order stays as it
    was, and paying it can be tried again."""


class WebhookRefused(PaymentError):
    """What reached the webhook is not a Stripe event for this shop: not signed with its secret,
    not an event, or from the other mode than its key's."""
