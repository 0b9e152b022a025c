from django import template
from django.utils.http import urlencode

from core.money import money_format

register = template.Library()

FILTER_PARAMS = ("category", "country", "region", "q")


@register.filter
def money(amount) -> str:
    """Format an amount in the shop's currency (see core.money.money_format)."""
    return money_format(amount)


@register.simple_tag
def query_with(query, **changes) -> str:
    """Return the catalog filters of query with changes applied, as a query string."""
    params = {name: query.get(name) for name in FILTER_PARAMS if query.get(name)}
    params.update({name: value for name, value in changes.items() if value})
    return urlencode(params)
