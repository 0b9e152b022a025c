class NotInvoiceable(Exception):
    """The order has not been paid, so it has no invoice."""


class InvalidPeriod(Exception):
    """A report was asked for a period that cannot be reported on."""
