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

# What a customer waits for at most when Stripe is slow, per try (the SDK retries twice).
TIMEOUT_SECONDS = 10


@cache
def _client(api_key: str, api_base: str | None) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=2,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
    )


def client() -> stripe.StripeClient:
    if settings.STRIPE_SECRET_KEY:
        return _client(settings.STRIPE_SECRET_KEY, None)
    if not settings.STRIPE_SANDBOX_ALLOWED:
        raise ImproperlyConfigured("STRIPE_SECRET_KEY is required when DEBUG is off.")
    return _client("sk_test_sandbox", settings.STRIPE_SANDBOX_URL)


def line_items(order: Order) -> list[dict]:
    """Return the order's items as Stripe line items, which must add up to the order's total."""
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
    charged = sum(i["price_data"]["unit_amount"] * i["quantity"] for i in items)
    if charged != to_minor_units(order.total, currency):
        raise ValueError(f"Line items of order {order.number} do not add up to its total.")
    return items


def create_checkout_session(
    *, order: Order, success_url: str, cancel_url: str
) -> stripe.checkout.Session:
    """Create a Checkout Session for a pending order (one attempt, one idempotency key)."""
    return client().v1.checkout.sessions.create(
        {
            "mode": "payment",
            "line_items": line_items(order),
            "client_reference_id": str(order.pk),
            "metadata": {"order_number": order.number},
            "customer_email": order.email,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": int(time.time()) + settings.STRIPE_CHECKOUT_EXPIRY_MINUTES * 60,
        },
        {"idempotency_key": f"checkout-{order.number}-{uuid.uuid4().hex}"},
    )


def retrieve_checkout_session(session_id: str) -> stripe.checkout.Session:
    return client().v1.checkout.sessions.retrieve(session_id)


def dashboard_url(payment_intent: str) -> str:
    """Return the Stripe dashboard page of a payment (test mode unless the key is live)."""
    mode = "" if settings.STRIPE_SECRET_KEY.startswith("sk_live_") else "test/"
    return f"https://dashboard.stripe.com/{mode}payments/{payment_intent}"
