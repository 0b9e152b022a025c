"""Check the parameters of a new Checkout Session, coupon or refund the way Stripe does, for the
subset we mimic.

Unknown parameters are refused, as Stripe refuses them: a call the sandbox accepts is one that
Stripe would accept too.
"""

import re

from payments.sandbox.wire import StripeError

MIN_EXPIRY = 30 * 60
MAX_EXPIRY = 24 * 60 * 60
_SESSION_KEYS = {
    "mode",
    "line_items",
    "client_reference_id",
    "metadata",
    "customer_email",
    "success_url",
    "cancel_url",
    "expires_at",
    "discounts",
    "shipping_options",
    "payment_intent_data",
    "locale",
}
# The languages Stripe's Checkout page speaks (the `locale` of
# https://docs.stripe.com/api/checkout/sessions/create).
# fmt: off
LOCALES = {
    "auto", "bg", "cs", "da", "de", "el", "en", "en-GB", "es", "es-419", "et", "fi", "fil", "fr",
    "fr-CA", "hr", "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "mt", "nb", "nl", "pl", "pt",
    "pt-BR", "ro", "ru", "sk", "sl", "sv", "th", "tr", "vi", "zh", "zh-HK", "zh-TW",
}
# fmt: on
_COUPON_KEYS = {"amount_off", "currency", "duration", "max_redemptions", "name", "metadata"}
# Stripe refuses `currency` with a refund of a payment (it takes the payment's), as unknown.
_REFUND_KEYS = {"payment_intent", "charge", "amount", "reason", "metadata"}
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
_LIST_KEYS = {"payment_intent", "charge", "limit", "starting_after"}
_PAYMENT_KEYS = {"amount", "currency", "card", "payment_intent", "receipt_email"}
_LINE_ITEM_KEYS = {"price_data", "quantity"}
_PRICE_DATA_KEYS = {"currency", "unit_amount", "product_data"}
_PRODUCT_DATA_KEYS = {"name", "description", "metadata"}
_SHIPPING_OPTION_KEYS = {"shipping_rate", "shipping_rate_data"}
_SHIPPING_RATE_DATA_KEYS = {"type", "fixed_amount", "display_name", "metadata", "tax_behavior"}
MAX_SHIPPING_OPTIONS = 5
_CURRENCY = re.compile(r"[a-z]{3}")


def session_params(params: dict, *, now: int) -> dict:
    """Return the cleaned parameters of a new Checkout Session, or raise StripeError."""
    _known(params, _SESSION_KEYS, "")
    if params.get("mode") != "payment":
        if "mode" not in params:
            raise StripeError("Missing required param: mode.", param="mode")
        raise StripeError(
            f"Invalid mode: {params['mode']!r}. The sandbox supports only `payment`.",
            param="mode",
        )
    items = params.get("line_items")
    if not items:
        raise StripeError("You must specify `line_items` in `payment` mode.", param="line_items")
    if not isinstance(items, list):
        raise StripeError("Invalid array", param="line_items")
    line_items = [_line_item(item, f"line_items[{i}]") for i, item in enumerate(items)]
    currencies = {item["currency"] for item in line_items}
    if len(currencies) > 1:
        raise StripeError("All line items must use the same currency.", param="line_items")
    expires_at = _integer(params.get("expires_at", now + MAX_EXPIRY), "expires_at")
    if expires_at < now + MIN_EXPIRY:
        raise StripeError(
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session "
            "creation.",
            param="expires_at",
        )
    if expires_at > now + MAX_EXPIRY:
        raise StripeError(
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
            param="expires_at",
        )
    email = params.get("customer_email") or None
    if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise StripeError(f"Invalid email address: {email}", param="customer_email")
    reference = params.get("client_reference_id") or None
    if reference is not None and len(reference) > 200:
        raise StripeError("client_reference_id is too long.", param="client_reference_id")
    discounts = params.get("discounts") or []
    if not isinstance(discounts, list) or len(discounts) > 1:
        raise StripeError("You may only specify one discount.", param="discounts")
    for i, discount in enumerate(discounts):
        _known(discount, {"coupon"}, f"discounts[{i}]")
        _required(discount, "coupon", f"discounts[{i}]")
    locale = params.get("locale") or None
    if locale is not None and locale not in LOCALES:
        raise StripeError(f"Invalid locale: {locale}", param="locale")
    currency = currencies.pop()
    intent_data = params.get("payment_intent_data") or {}
    _known(intent_data, {"metadata"}, "payment_intent_data")
    return {
        "mode": "payment",
        # What the session's PaymentIntent carries: its events name the order by it.
        "payment_intent_metadata": _metadata(
            intent_data.get("metadata") or {}, "payment_intent_data[metadata]"
        ),
        "line_items": line_items,
        "coupon_ids": [discount["coupon"] for discount in discounts],
        "shipping_options": _shipping_options(params.get("shipping_options"), currency),
        "currency": currency,
        "client_reference_id": reference,
        "customer_email": email,
        "locale": locale,
        "metadata": _metadata(params.get("metadata") or {}, "metadata"),
        "success_url": _url(params, "success_url"),
        "cancel_url": _url(params, "cancel_url"),
        "expires_at": expires_at,
    }


def coupon_params(params: dict) -> dict:
    """Return the cleaned parameters of a new amount-off coupon, or raise StripeError."""
    _known(params, _COUPON_KEYS, "")
    amount_off = _integer(_required(params, "amount_off", ""), "amount_off")
    if amount_off < 1:
        raise StripeError("Invalid positive integer", param="amount_off")
    currency = str(_required(params, "currency", "")).lower()
    if not _CURRENCY.fullmatch(currency):
        raise StripeError(f"Invalid currency: {currency}", param="currency")
    duration = params.get("duration", "once")
    if duration not in ("once", "forever", "repeating"):
        raise StripeError(f"Invalid duration: {duration}", param="duration")
    name = params.get("name") or None
    if name is not None and len(name) > 40:
        raise StripeError("Name must be 40 characters or fewer.", param="name")
    limit = params.get("max_redemptions")
    limit = None if limit in (None, "") else _integer(limit, "max_redemptions")
    if limit is not None and limit < 1:
        raise StripeError("Invalid positive integer", param="max_redemptions")
    return {
        "amount_off": amount_off,
        "currency": currency,
        "duration": duration,
        "max_redemptions": limit,
        "name": name,
        "metadata": _metadata(params.get("metadata") or {}, "metadata"),
    }


def refund_params(params: dict) -> dict:
    """Return the cleaned parameters of a new refund, or raise StripeError.

    The messages are Stripe's own, as its API answers them.
    """
    _known(params, _REFUND_KEYS, "")
    payment_intent, charge = params.get("payment_intent") or None, params.get("charge") or None
    if payment_intent is None and charge is None:
        raise StripeError(
            "One of the following params should be provided for this request: payment_intent or "
            "charge."
        )
    if payment_intent is not None and charge is not None:
        # The sandbox's own wording: the shop names the payment one way only.
        raise StripeError(
            "Provide either payment_intent or charge, not both.", param="payment_intent"
        )
    amount = params.get("amount")
    if amount is not None:
        amount = _integer(amount, "amount")
        if amount < 1:
            raise StripeError(
                "This value must be greater than or equal to 1.",
                param="amount",
                code="parameter_invalid_integer",
            )
    reason = params.get("reason") or None
    if reason is not None and reason not in REFUND_REASONS:
        raise StripeError(
            "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
            param="reason",
        )
    return {
        "payment_intent": payment_intent,
        "charge": charge,
        "amount": amount,
        "reason": reason,
        "metadata": _metadata(params.get("metadata") or {}, "metadata"),
    }


def list_params(params: dict) -> dict:
    """Return the cleaned parameters of a list of refunds, or raise StripeError."""
    _known(params, _LIST_KEYS, "")
    limit = _integer(params.get("limit", 10), "limit")
    if not 1 <= limit <= 100:
        raise StripeError("This value must be between 1 and 100.", param="limit")
    return {
        "payment_intent": params.get("payment_intent") or None,
        "charge": params.get("charge") or None,
        "limit": limit,
        "starting_after": params.get("starting_after") or None,
    }


def payment_params(params: dict) -> dict:
    """Return the cleaned parameters of a card payment made outside Checkout (a sandbox control
    for tests and drills whose orders are paid by the events they send), or raise StripeError."""
    _known(params, _PAYMENT_KEYS, "")
    amount = _integer(_required(params, "amount", ""), "amount")
    if amount < 1:
        raise StripeError(
            "This value must be greater than or equal to 1.",
            param="amount",
            code="parameter_invalid_integer",
        )
    currency = str(params.get("currency") or "eur").lower()
    if not _CURRENCY.fullmatch(currency):
        raise StripeError(f"Invalid currency: {currency}", param="currency")
    payment_intent = params.get("payment_intent") or None
    if payment_intent is not None and not re.fullmatch(r"pi_\w{1,200}", payment_intent):
        raise StripeError(f"Invalid payment_intent: {payment_intent}", param="payment_intent")
    return {
        "amount": amount,
        "currency": currency,
        "card": params.get("card") or None,
        "payment_intent": payment_intent,
        "receipt_email": params.get("receipt_email") or None,
    }


def _shipping_options(options, currency: str) -> list[dict]:
    """Return the session's shipping options as {"shipping_rate"} (an id) or {"amount",
    "display_name"} (a rate made for the session), checked with Stripe's rules."""
    if options is None or options == "":
        return []
    if not isinstance(options, list):
        raise StripeError("Invalid array", param="shipping_options")
    if len(options) > MAX_SHIPPING_OPTIONS:
        raise StripeError(
            f"You may only specify up to {MAX_SHIPPING_OPTIONS} shipping options.",
            param="shipping_options",
        )
    return [
        _shipping_option(option, f"shipping_options[{i}]", currency)
        for i, option in enumerate(options)
    ]


def _shipping_option(option, where: str, currency: str) -> dict:
    _known(option, _SHIPPING_OPTION_KEYS, where)
    if ("shipping_rate" in option) == ("shipping_rate_data" in option):
        raise StripeError(
            "You must specify exactly one of `shipping_rate` or `shipping_rate_data`.", param=where
        )
    if "shipping_rate" in option:
        return {"shipping_rate": str(option["shipping_rate"])}
    data, where = option["shipping_rate_data"], f"{where}[shipping_rate_data]"
    _known(data, _SHIPPING_RATE_DATA_KEYS, where)
    if data.get("type", "fixed_amount") != "fixed_amount":
        raise StripeError(
            f"Invalid {where}[type]: must be one of fixed_amount", param=f"{where}[type]"
        )
    name = _required(data, "display_name", where)
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise StripeError(
            "The display name must be between 1 and 100 characters.",
            param=f"{where}[display_name]",
        )
    fixed = _required(data, "fixed_amount", where)
    _known(fixed, {"amount", "currency", "currency_options"}, f"{where}[fixed_amount]")
    amount = _integer(
        _required(fixed, "amount", f"{where}[fixed_amount]"), f"{where}[fixed_amount][amount]"
    )
    if amount < 0:
        raise StripeError(
            "This value must be greater than or equal to 0.",
            param=f"{where}[fixed_amount][amount]",
        )
    rate_currency = _required(fixed, "currency", f"{where}[fixed_amount]")
    if str(rate_currency).lower() != currency:
        raise StripeError(
            f"The shipping rate's currency ({rate_currency}) must match the currency of the "
            f"line items ({currency}).",
            param=f"{where}[fixed_amount][currency]",
        )
    return {"amount": amount, "display_name": name, "metadata": data.get("metadata") or {}}


def _line_item(item, where: str) -> dict:
    if not isinstance(item, dict):
        raise StripeError(f"Invalid object: {where}", param=where)
    _known(item, _LINE_ITEM_KEYS, where)
    price = _required(item, "price_data", where)
    _known(price, _PRICE_DATA_KEYS, f"{where}[price_data]")
    product = _required(price, "product_data", f"{where}[price_data]")
    _known(product, _PRODUCT_DATA_KEYS, f"{where}[price_data][product_data]")
    currency = _required(price, "currency", f"{where}[price_data]").lower()
    if not _CURRENCY.fullmatch(currency):
        raise StripeError(f"Invalid currency: {currency}", param=f"{where}[price_data][currency]")
    unit_amount = _integer(
        _required(price, "unit_amount", f"{where}[price_data]"), f"{where}[price_data][unit_amount]"
    )
    quantity = _integer(_required(item, "quantity", where), f"{where}[quantity]")
    if unit_amount < 0 or quantity < 1:
        raise StripeError(f"Invalid amount or quantity in {where}.", param=where)
    name = _required(product, "name", f"{where}[price_data][product_data]")
    _metadata(product.get("metadata") or {}, f"{where}[price_data][product_data][metadata]")
    return {"name": name, "currency": currency, "unit_amount": unit_amount, "quantity": quantity}


def _known(params, allowed: set, where: str) -> None:
    if not isinstance(params, dict):
        raise StripeError(f"Invalid object: {where}", param=where)
    for key in params:
        if key not in allowed:
            name = f"{where}[{key}]" if where else key
            raise StripeError(f"Received unknown parameter: {name}", param=name)


def _required(params: dict, key: str, where: str):
    value = params.get(key)
    if value in (None, "", {}):
        name = f"{where}[{key}]" if where else key
        raise StripeError(f"Missing required param: {name}.", param=name)
    return value


def _integer(value, param: str) -> int:
    if isinstance(value, int):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise StripeError(f"Invalid integer: {value}", param=param)
    return int(value)


def _metadata(metadata, where: str) -> dict:
    if not isinstance(metadata, dict):
        raise StripeError("Invalid object", param=where)
    for key, value in metadata.items():
        if len(key) > 40 or not isinstance(value, str) or len(value) > 500:
            raise StripeError(f"Invalid metadata entry: {key}", param=f"{where}[{key}]")
    return {key: value for key, value in metadata.items() if value != ""}


def _url(params: dict, key: str) -> str | None:
    url = params.get(key) or None
    if url is not None and not re.match(r"https?://[^/\s]+", url):
        raise StripeError("Not a valid URL", param=key)
    return url
