from django import template
from django.conf import settings
from django.utils.http import urlencode

from core.money import quantize

register = template.Library()

FILTER_PARAMS = ("category", "country", "region", "q")


@register.filter
def money(amount) -> str:
    """Format an amount in the shop's currency: 1234.5 → "1,234.50 €"."""
    if amount is None or amount == "":
        return ""
    return f"{quantize(amount):,.2f} {settings.SHOP_CURRENCY_SYMBOL}"


@register.simple_tag
def query_with(query, **changes) -> str:
    """Return the catalog filters of query with changes applied, as a query string."""
    params = {name: query.get(name) for name in FILTER_PARAMS if query.get(name)}
    params.update({name: value for name, value in changes.items() if value})
    return urlencode(params)
