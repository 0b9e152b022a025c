from core.exceptions import DomainError, TooManyRequests


class CouponNotValid(DomainError):
    """The code can't be used now; the message is safe to show to the customer."""


class TooManyAttempts(TooManyRequests, CouponNotValid):
    """Too many wrong codes from this visitor, or from everyone: no code is looked up until the
    window ends (retry_after seconds)."""
