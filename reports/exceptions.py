from core.exceptions import DomainError


class NotInvoiceable(DomainError):
    """The order has not been paid, so it has no invoice."""


class InvalidPeriod(DomainError):
    """A report was asked for a period that cannot be reported on."""
