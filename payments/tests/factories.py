"""Stripe event payloads shaped like Stripe's own (see Stripe's OpenAPI fixtures), signed with
the SDK's own signature helper."""

import json
import time
import uuid

import stripe
from django.conf import settings

from shop.money import to_minor_units


def checkout_session(order, **changes) -> dict:
    session = {
        "id": f"cs_test_{uuid.uuid4().hex}",
        "object": "checkout.session",
        "amount_subtotal": to_minor_units(order.total, order.currency),
        "amount_total": to_minor_units(order.total, order.currency),
        "client_reference_id": str(order.pk),
        "currency": order.currency.lower(),
        "customer_email": order.email,
        "livemode": False,
        "metadata": {"order_number": order.number},
        "mode": "payment",
        "payment_intent": f"pi_{uuid.uuid4().hex[:24]}",
        "payment_status": "paid",
        "status": "complete",
        "url": None,
    }
    return {**session, **changes}


def event(event_type: str, obj: dict, **changes) -> dict:
    return {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2025-08-27.basil",
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        **changes,
    }


def signed(payload, *, secret: str | None = None, timestamp: int | None = None) -> tuple:
    """Return (body, headers) as Stripe would post them."""
    body = payload if isinstance(payload, str) else json.dumps(payload)
    header = stripe.WebhookSignature.generate_signature_header(
        body, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp=timestamp
    )
    return body, {"HTTP_STRIPE_SIGNATURE": header}
