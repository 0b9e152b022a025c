"""The only module that talks to Stripe's API, through the official SDK.

With no STRIPE_SECRET_KEY the same calls go to the local sandbox (payments/sandbox), which only a
DEBUG (development) or test configuration allows.
"""

import time
import uuid
from functools import cache

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from orders.models import Order
from shop.money import to_minor_units

# The SDK's telemetry sends request timings to Stripe and keeps an id in a file under $HOME, where
# a container of ours writes nothing.
stripe.enable_telemetry = False


@cache
def _client(api_key: str, api_base: str | None, timeout: float) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=2,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def client() -> stripe.StripeClient:
    # What a customer waits for at most when Stripe is slow, per try (the SDK retries twice).
    timeout = settings.STRIPE_TIMEOUT_SECONDS
    if settings.STRIPE_SECRET_KEY:
        return _client(settings.STRIPE_SECRET_KEY, None, timeout)
    if not settings.STRIPE_SANDBOX_ALLOWED:
        raise ImproperlyConfigured("STRIPE_SECRET_KEY is required when DEBUG is off.")
    return _client("sk_test_sandbox", settings.STRIPE_SANDBOX_URL, timeout)


def line_items(order: Order) -> list[dict]:
    """Return the order's items as Stripe line items, at their full prices."""
    currency = order.currency.lower()
    items = [
        {
            "price_data": {
                "currency": currency,
                "unit_amount": to_minor_units(item.unit_price, currency),
                "product_data": {
                    "name": f"{item.wine_name} {item.vintage or 'NV'}",
                    "metadata": {"sku": item.sku},
                },
            },
            "quantity": item.quantity,
        }
        for item in order.items.all()
    ]
    return items


def amount_off(order: Order, items: list[dict]) -> int:
    """Return the discount to send, in minor units: exactly what takes the items to the total."""
    listed = sum(i["price_data"]["unit_amount"] * i["quantity"] for i in items)
    off = listed - to_minor_units(order.total, order.currency)
    if off < 0 or (off > 0) != (order.discount > 0):
        raise ValueError(f"Line items of order {order.number} do not add up to its total.")
    return off


def _discounts(order: Order, off: int, attempt: str) -> list[dict]:
    """Create a one-off Stripe coupon for the order's discount; Checkout shows it as a line."""
    if not off:
        return []
    coupon = client().v1.coupons.create(
        {
            "amount_off": off,
            "currency": order.currency.lower(),
            "duration": "once",
            "max_redemptions": 1,
            "name": f"Coupon {order.coupon_code}"[:40],
            "metadata": {"order_number": order.number},
        },
        {"idempotency_key": f"coupon-{order.number}-{attempt}"},
    )
    return [{"coupon": coupon.id}]


def create_checkout_session(
    *, order: Order, success_url: str, cancel_url: str
) -> stripe.checkout.Session:
    """Create a Checkout Session for a pending order (one attempt, one idempotency key).

    Stripe charges the items less the discount, which add up to the order's total to the cent.
    """
    attempt = uuid.uuid4().hex
    items = line_items(order)
    discounts = _discounts(order, amount_off(order, items), attempt)
    return client().v1.checkout.sessions.create(
        {
            "mode": "payment",
            "line_items": items,
            **({"discounts": discounts} if discounts else {}),
            "client_reference_id": str(order.pk),
            "metadata": {"order_number": order.number},
            "customer_email": order.email,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": int(time.time()) + settings.STRIPE_CHECKOUT_EXPIRY_MINUTES * 60,
        },
        {"idempotency_key": f"checkout-{order.number}-{attempt}"},
    )


def retrieve_checkout_session(session_id: str) -> stripe.checkout.Session:
    return client().v1.checkout.sessions.retrieve(session_id)


def dashboard_url(payment_intent: str) -> str:
    """Return the Stripe dashboard page of a payment (test mode unless the key is live)."""
    mode = "" if settings.STRIPE_SECRET_KEY.startswith("sk_live_") else "test/"
    return f"https://dashboard.stripe.com/{mode}payments/{payment_intent}"
