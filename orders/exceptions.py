from core.exceptions import DomainError, TooManyRequests


class OrderError(DomainError):
    """An order could not be placed or changed; the message is safe to show."""


class EmptyCart(OrderError):
    pass


class OutOfStock(OrderError):
    pass


class WineUnavailable(OrderError):
    pass


class CartChanged(OrderError):
    """Prices or lines changed between the checkout page and the order."""


class InvalidTransition(OrderError):
    pass


class AgeNotConfirmed(OrderError):
    """The customer didn't confirm being of the legal age to buy wine where it goes."""


class InvalidContact(OrderError):
    """A customer detail that can't be stored: empty, too long, or with control characters."""


class TooManyOrders(TooManyRequests, OrderError):
    """This client placed too many orders lately, or holds too many unpaid ones."""


class RefundNotAllowed(OrderError):
    """This order, line or refund can't be refunded (or allocated) that way."""


class RefundTooLarge(OrderError):
    """More bottles or money than is left to refund on the order."""


class InvalidShipment(OrderError):
    """A carrier or tracking number that can't be stored on a shipment."""


class AlreadyShipped(InvalidTransition):
    """The order was shipped already (or made ready for collection): it is not shipped twice."""


class OrderLinkInvalid(OrderError):
    """A link to an order that was not made by the shop, or was altered."""


class OrderLinkExpired(OrderLinkInvalid):
    """A genuine link to an order, too old to open it; a new one can be asked for."""
