from core.exceptions import DomainError


class CartError(DomainError):
    """A cart change was refused; the message is safe to show to the customer."""


class WineImageInvalid(DomainError):
    """An uploaded photo was refused; the message says why and is safe to show to staff."""


class DeliveryRefused(DomainError):
    """A destination the shop doesn't serve, or a postal code it can't read; safe to show."""


class ShippingRatesInvalid(DomainError):
    """A zone's bands of bottles overlap, leave a gap or don't start at 1; safe to show staff."""
