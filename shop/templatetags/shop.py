from django import template

from core.money import money_format

register = template.Library()


@register.filter
def money(amount) -> str:
    """Format an amount in the shop's currency (see core.money.money_format)."""
    return money_format(amount)
