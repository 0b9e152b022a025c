class DomainError(Exception):
    """An outcome a user can cause: a service raises it, a view or the admin shows its message.

    Each app's exceptions derive from it, so a page that calls services of several apps
    catches one base; anything else that escapes is a bug.
    """


class TooManyRequests(DomainError):
    """A limit refused the request; it may be made again after retry_after seconds."""

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
