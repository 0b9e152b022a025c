from orders.exceptions import OrderError


class CouponNotValid(OrderError):
    """The code can't be used now; the message is safe to show to the customer."""


class TooManyAttempts(CouponNotValid):
    """Too many wrong codes from this visitor: no code is looked up until the window ends."""
