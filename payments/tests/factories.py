"""Stripe event payloads shaped like Stripe's own (see Stripe's OpenAPI fixtures), signed with
the SDK's own signature helper. Charges, refunds and disputes are made as the sandbox makes them.
"""

import json
import time
import uuid

import stripe
from django.conf import settings

from core.money import to_minor_units
from payments.sandbox import objects


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


def charge_object(order, **changes) -> dict:
    """Return the card charge of the order's payment (its payment intent, a new one if it has
    none); `amount_refunded` given, `refunded` follows from it unless given too."""
    charge = objects.charge_object(
        payment_intent=order.payment_intent or f"pi_{uuid.uuid4().hex[:24]}",
        amount=to_minor_units(order.total, order.currency),
        currency=order.currency.lower(),
        last4="4242",
        email=order.email,
        now=int(time.time()),
    )
    charge |= changes
    if "amount_refunded" in changes and "refunded" not in changes:
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
    return charge


def refund_object(
    order,
    *,
    amount_minor: int | None = None,
    refund_id: int | None = None,
    status: str = "succeeded",
    charge: str = "",
    **changes,
) -> dict:
    """Return a refund of the order's payment: ours (its id and the order's number in the
    metadata) when `refund_id` is given, else one made in Stripe's dashboard; of the whole total
    unless `amount_minor` says; a failed one has Stripe's failure reason."""
    metadata = {"refund_id": str(refund_id), "order_number": order.number} if refund_id else {}
    if amount_minor is None:
        amount_minor = to_minor_units(order.total, order.currency)
    refund = objects.refund_object(
        amount=amount_minor,
        charge=charge or f"ch_{uuid.uuid4().hex[:24]}",
        payment_intent=order.payment_intent or f"pi_{uuid.uuid4().hex[:24]}",
        currency=order.currency.lower(),
        metadata=metadata,
        reason=None,
        status=status,
        now=int(time.time()),
    )
    return refund | changes


def dispute_object(order, **changes) -> dict:
    """Return a new dispute of the order's whole payment."""
    dispute = objects.dispute_object(
        charge=f"ch_{uuid.uuid4().hex[:24]}",
        payment_intent=order.payment_intent or f"pi_{uuid.uuid4().hex[:24]}",
        amount=to_minor_units(order.total, order.currency),
        currency=order.currency.lower(),
        now=int(time.time()),
    )
    return dispute | changes


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


def webhook_post(client, body: str, headers: dict, content_type: str = "application/json"):
    """Post a body to the webhook as Stripe does, and run what the answer queued: the worker's
    payment_apply, eagerly in tests, once the request's transaction commits (a test's own never
    does, so its callbacks are run here)."""
    from django.test import TestCase
    from django.urls import reverse

    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("payments:webhook"), body, content_type, **headers)


def deliver(client, payload, **signing):
    """Deliver a signed event to the webhook; return the response."""
    body, headers = signed(payload, **signing)
    return webhook_post(client, body, headers)


def out_of_order_deliveries(*, wine_id: int, coupon_code: str = "") -> tuple[dict, list[dict]]:
    """Place three orders of one bottle; return their final states and every event twice.

    Retried: the customer let a first session lapse and paid a second one. Delayed: the payment
    completed later (a bank transfer). Lapsed: the only session expired unpaid. Retried and
    lapsed use the coupon, if any: the lapsed order gives its use back.
    """
    from orders.models import Order
    from orders.tests.factories import customer, place

    def one(code: str = "") -> Order:
        return place(lines=[(wine_id, 1)], customer=customer(), coupon_code=code)

    retried, delayed, lapsed = one(coupon_code), one(), one(coupon_code)
    first, second = checkout_session(retried, status="expired"), checkout_session(retried)
    Order.objects.filter(pk=retried.pk).update(stripe_session_id=second["id"])
    waiting = checkout_session(delayed, payment_status="unpaid")
    events = [
        event("checkout.session.expired", first),
        event("checkout.session.completed", second),
        event("checkout.session.completed", waiting),
        event("checkout.session.async_payment_succeeded", {**waiting, "payment_status": "paid"}),
        event("checkout.session.expired", checkout_session(lapsed, status="expired")),
    ]
    expected = {
        retried.pk: Order.Status.PAID,
        delayed.pk: Order.Status.PAID,
        lapsed.pk: Order.Status.EXPIRED,
    }
    return expected, events + events
