"""Stripe's wire format: form bodies in bracket notation, ids, errors, and amounts as its
messages print them."""

import secrets
import string
from urllib.parse import parse_qsl

from core.money import ZERO_DECIMAL_CURRENCIES

_ALPHANUMERIC = string.ascii_letters + string.digits
SYMBOLS = {"eur": "€", "usd": "$", "gbp": "£"}


def random_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def money(amount_minor: int, currency: str) -> str:
    """Return an amount in the currency's smallest unit as a customer reads it: €25.80."""
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        number = f"{amount_minor:,}"
    else:
        number = f"{amount_minor // 100:,}.{amount_minor % 100:02d}"
    symbol = SYMBOLS.get(currency.lower())
    return f"{symbol}{number}" if symbol else f"{number} {currency.upper()}"


class StripeError(Exception):
    """An error Stripe answers with, as {"error": {...}} and an HTTP status."""

    def __init__(self, message, *, status=400, type="invalid_request_error", param=None, code=None):
        super().__init__(message)
        self.status = status
        self.body = {"type": type, "message": message}
        if param:
            self.body["param"] = param
        if code:
            self.body["code"] = code

    def as_json(self) -> dict:
        return {"error": self.body}


def parse_form(body: str) -> tuple[dict, dict]:
    """Return the flat pairs of a form body and the nested parameters they spell.

    `line_items[0][quantity]=2` becomes {"line_items": [{"quantity": "2"}]}: objects whose keys
    are all indexes become lists, except metadata, whose keys are the caller's own.
    """
    flat = dict(parse_qsl(body, keep_blank_values=True))
    nested: dict = {}
    for key, value in flat.items():
        name, _, rest = key.partition("[")
        parts = [name, *rest.rstrip("]").split("][")] if rest else [name]
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise StripeError(f"Invalid array: {key}", param=key)
        node[parts[-1]] = value
    return flat, _listify(nested)


def _listify(value, key=""):
    if not isinstance(value, dict) or key == "metadata":
        return value
    items = {k: _listify(v, k) for k, v in value.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items
