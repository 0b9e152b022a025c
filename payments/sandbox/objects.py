"""Stripe's objects as the sandbox makes them: card charges, refunds and disputes, and the test
cards that decide what a payment's refunds do (https://docs.stripe.com/testing#refunds).

The factories of the payment tests build their event payloads with the same functions.
"""

import time
from dataclasses import dataclass

from payments.sandbox.wire import random_id

FAILURE_REASON = "expired_or_canceled_card"  # what Stripe's refund_fail card says


@dataclass(frozen=True)
class Card:
    number: str
    label: str  # as the payment page offers it
    refund_status: str  # what a new refund answers
    settles_to: str | None = None  # the status it takes later, on its own
    disputed: bool = False

    @property
    def last4(self) -> str:
        return self.number[-4:]


SUCCEEDS = "4242424242424242"
REFUND_PENDING = "4000000000007726"
REFUND_FAILS = "4000000000005126"
DISPUTED = "4000000000000259"
CARDS = {
    card.number: card
    for card in (
        Card(SUCCEEDS, "Visa ··4242 (refunds succeed)", "succeeded"),
        Card(REFUND_PENDING, "Visa ··7726 (refunds pending, then succeed)", "pending", "succeeded"),
        Card(REFUND_FAILS, "Visa ··5126 (refunds fail later)", "succeeded", "failed"),
        Card(DISPUTED, "Visa ··0259 (payment disputed)", "succeeded", disputed=True),
    )
}
DEFAULT_CARD = SUCCEEDS


def charge_object(
    *, payment_intent: str, amount: int, currency: str, last4: str, email: str | None, now: int
) -> dict:
    """Return a card charge that succeeded, as Stripe shapes it (its refunds are listed apart)."""
    return {
        "id": random_id("ch_"),
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": 0,
        "balance_transaction": random_id("txn_"),
        "billing_details": {
            "address": {
                "city": None,
                "country": None,
                "line1": None,
                "line2": None,
                "postal_code": None,
                "state": None,
            },
            "email": email,
            "name": None,
            "phone": None,
        },
        "captured": True,
        "created": now,
        "currency": currency,
        "customer": None,
        "description": None,
        "disputed": False,
        "failure_code": None,
        "failure_message": None,
        "livemode": False,
        "metadata": {},
        "paid": True,
        "payment_intent": payment_intent,
        "payment_method": random_id("pm_"),
        "payment_method_details": {
            "card": {
                "brand": "visa",
                "country": "US",
                "exp_month": 12,
                "exp_year": time.gmtime(now).tm_year + 3,
                "funding": "credit",
                "last4": last4,
            },
            "type": "card",
        },
        "receipt_email": email,
        "receipt_number": None,
        "receipt_url": None,
        "refunded": False,
        "status": "succeeded",
    }


DECLINED_MESSAGE = "Your card was declined."


def payment_intent_object(
    *, payment_intent: str, amount: int, currency: str, metadata: dict, now: int
) -> dict:
    """Return a Checkout Session's PaymentIntent after a declined card, as Stripe shapes it:
    waiting for another payment method, with the metadata the session passed it."""
    return {
        "id": payment_intent,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": 0,
        "currency": currency,
        "created": now,
        "customer": None,
        "description": None,
        "last_payment_error": {
            "charge": random_id("ch_"),
            "code": "card_declined",
            "decline_code": "generic_decline",
            "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            "message": DECLINED_MESSAGE,
            "type": "card_error",
        },
        "latest_charge": None,
        "livemode": False,
        "metadata": dict(metadata),
        "payment_method": None,
        "payment_method_types": ["card"],
        "status": "requires_payment_method",
    }


def refund_object(
    *,
    amount: int,
    charge: str,
    payment_intent: str,
    currency: str,
    metadata: dict,
    reason: str | None,
    status: str,
    now: int,
) -> dict:
    """Return a card refund as Stripe shapes it (a refund has no `livemode`; `pending_reason`
    and `failure_reason` only when they apply)."""
    refund = {
        "id": random_id("re_"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": random_id("txn_"),
        "charge": charge,
        "created": now,
        "currency": currency,
        "destination_details": {
            "card": {
                "reference_status": "pending",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        },
        "metadata": metadata,
        "payment_intent": payment_intent,
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": status,
        "transfer_reversal": None,
    }
    if status == "pending":
        refund["pending_reason"] = "processing"
    if status == "failed":
        refund["failure_balance_transaction"] = random_id("txn_")
        refund["failure_reason"] = FAILURE_REASON
    return refund


def dispute_object(
    *, charge: str, payment_intent: str, amount: int, currency: str, now: int
) -> dict:
    """Return a new dispute of the whole charge as Stripe shapes it (card 0259's: fraudulent)."""
    return {
        "id": random_id("dp_"),
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [],
        "charge": charge,
        "created": now,
        "currency": currency,
        "evidence_details": {
            "due_by": now + 7 * 24 * 3600,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": payment_intent,
        "reason": "fraudulent",
        "status": "needs_response",
    }
