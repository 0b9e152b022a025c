from core.exceptions import DomainError


class NotInvoiceable(DomainError):
    """The order has not been paid, so it has no invoice."""


class InvalidPeriod(DomainError):
    """A report was asked for a period that cannot be reported on."""


class NotCreditable(DomainError):
    """The refund has not succeeded, so it has no credit note."""
