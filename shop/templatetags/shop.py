from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from core.money import money_format

register = template.Library()


@register.filter
def money(amount) -> str:
    """Format an amount in the shop's currency (see core.money.money_format)."""
    return money_format(amount)


@register.simple_tag
def country_options(countries, selected: str) -> str:
    """Return the <option>s of (code, name) countries, selected's marked.

    A template loop over the thirty-odd countries the cart page offers costs it a millisecond.
    """
    return mark_safe(  # noqa: S308 - every value is escaped
        "".join(
            f'<option value="{escape(code)}"{" selected" if code == selected else ""}>'
            f"{escape(name)}</option>"
            for code, name in countries
        )
    )
