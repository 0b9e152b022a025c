"""Admin columns the apps share: amounts shown with the shop's currency, as everywhere else."""

from django.utils.html import format_html
from unfold.decorators import display

from core.money import money_format

MINUS = "−"


def money_html(amount, *, symbol: str | None = None, minus: bool = False) -> str:
    """Return the amount with its currency, on one line; minus: taken off, "—" when none."""
    if minus and not amount:
        return "—"
    shown = money_format(amount, symbol=symbol)
    return format_html('<span class="whitespace-nowrap">{}{}</span>', MINUS if minus else "", shown)


def money_column(field: str, description: str, *, minus: bool = False):
    """Return a list column or read-only field showing the model's field with its currency.

    minus: the amount is taken off (a discount): shown after a minus sign, or "—" when none.
    """

    @display(description=description, ordering=field)
    def column(model_admin, obj) -> str:
        return money_html(getattr(obj, field), minus=minus)

    column.__name__ = f"{field}_money"
    return column
