"""Stripe's webhook: verify the signature, store the event once and queue it to be applied."""

import json

import stripe
from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments.exceptions import WebhookRefused
from payments.models import StripeEvent
from payments.services import payment_receive
from payments.stripe_client import live_mode


@csrf_exempt  # Stripe signs its requests instead
@require_POST
def stripe_webhook(request):
    try:
        event = _verified_event(request.body, request.headers.get("Stripe-Signature"))
    except WebhookRefused as refusal:
        return HttpResponseBadRequest(str(refusal))
    stored = payment_receive(event=event)
    return HttpResponse("Duplicate." if stored is None else "Received.")


def _verified_event(payload: bytes, signature: str | None) -> dict:
    """Return the event Stripe signed for this shop, or raise WebhookRefused saying why not."""
    try:
        stripe.WebhookSignature.verify_header(
            payload,
            signature,
            settings.STRIPE_WEBHOOK_SECRET,
            # Without a tolerance the SDK accepts any age: a replayed old event would pass.
            tolerance=stripe.Webhook.DEFAULT_TOLERANCE,
        )
        if b"\\u0000" in payload:  # no text column (nor PostgreSQL's JSON) holds a NUL
            raise ValueError("NUL in the payload")
        event = json.loads(payload, parse_constant=_not_json)
        json.dumps(event, ensure_ascii=False).encode()  # a lone surrogate is no text to store
        if not _is_event(event):
            raise ValueError("not a Stripe event")
    except stripe.SignatureVerificationError:
        raise WebhookRefused("Invalid signature.") from None
    except ValueError:  # also a body that is not UTF-8 or not JSON
        raise WebhookRefused("Invalid payload.") from None
    if event["livemode"] is not live_mode():
        # A test-mode event reaching the live shop (or the reverse) is about payments that were
        # never made on this account's side of Stripe: storing it would mark orders paid.
        raise WebhookRefused(
            f"{'Live' if event['livemode'] else 'Test'}-mode event refused: STRIPE_SECRET_KEY is "
            f"{'a live' if live_mode() else 'a test-mode (or no)'} key."
        )
    return event


def _not_json(constant: str):
    # Python reads NaN and Infinity, which JSON (and the database's JSON columns) do not have.
    raise ValueError(f"{constant} is not JSON")


def _is_event(event) -> bool:
    fields = {name: StripeEvent._meta.get_field(name).max_length for name in ("event_id", "type")}
    return (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and len(event["id"]) <= fields["event_id"]
        and isinstance(event.get("livemode"), bool)
        and isinstance(event.get("type"), str)
        and len(event["type"]) <= fields["type"]
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    )
