class CartError(Exception):
    """A cart change was refused; the message is safe to show to the customer."""


class WineImageInvalid(Exception):
    """An uploaded photo was refused; the message says why and is safe to show to staff."""
