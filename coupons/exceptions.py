from core.exceptions import DomainError


class CouponNotValid(DomainError):
    """The code can't be used now; the message is safe to show to the customer."""


class TooManyAttempts(CouponNotValid):
    """Too many wrong codes from this visitor, or from everyone: no code is looked up until the
    window ends (retry_after seconds)."""

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
