"""The sandbox's money: payments (a PaymentIntent and its one card charge), their refunds and
disputes, shaped as Stripe's objects and refused with Stripe's errors.

The card a payment was made with decides what its refunds do, as Stripe's test cards do
(https://docs.stripe.com/testing#refunds): most refunds succeed at once; 4000 0000 0000 7726's
start `pending` and succeed later; 4000 0000 0000 5126's start `succeeded` and fail later with
`expired_or_canceled_card`; 4000 0000 0000 0259's payment is disputed at once, and a disputed
charge can't be refunded. "Later" is SETTLE_SECONDS after the refund, or at once when asked
(Store.settle_refunds).

The store calls it with its lock held; events leave through `emit`, in the order Stripe sends
them: `refund.created`, then `charge.refunded` once the money is refunded (its
`amount_refunded` the charge's total so far, `refunded` true only when all of it is);
`refund.updated` when a refund's status changes, then `refund.failed` if it failed (its amount
is then no longer counted in the charge's `amount_refunded`).
"""

import copy
from collections.abc import Callable

from payments.sandbox.objects import (
    CARDS,
    FAILURE_REASON,
    charge_object,
    dispute_object,
    refund_object,
)
from payments.sandbox.wire import StripeError, money, random_id

NO_REQUEST = {"id": None, "idempotency_key": None}
SETTLE_SECONDS = 30  # Stripe's "some time later" for the test cards' refunds
PENDING_OR_DONE = ("pending", "succeeded")

Emit = Callable[..., None]


class Ledger:
    def __init__(self, *, emit: Emit, saved: dict | None = None):
        self._emit = emit
        saved = saved or {}
        # payment intent id -> {"charge": {...}, "card": number, "api_version", "dispute"}
        self._payments: dict[str, dict] = saved.get("payments", {})
        # refund id -> {"refund": {...}, "settles_at": timestamp or None, "settles_to": status}
        self._refunds: dict[str, dict] = saved.get("refunds", {})
        self._charges = {p["charge"]["id"]: pi for pi, p in self._payments.items()}

    def state(self) -> dict:
        return {"payments": self._payments, "refunds": self._refunds}

    def count(self) -> tuple[int, int]:
        return len(self._payments), len(self._refunds)

    # -- payments --------------------------------------------------------------------------

    def pay(
        self,
        *,
        amount: int,
        currency: str,
        card: str,
        email: str | None,
        api_version: str,
        now: float,
        payment_intent: str | None = None,
    ) -> dict:
        """Record a card payment that succeeded; return its charge."""
        if card not in CARDS:
            raise StripeError(f"Unknown test card: {card}", param="card")
        payment_intent = payment_intent or random_id("pi_")
        if payment_intent in self._payments:
            raise StripeError(
                f"The payment {payment_intent} already exists.", param="payment_intent"
            )
        charge = charge_object(
            payment_intent=payment_intent,
            amount=amount,
            currency=currency,
            last4=CARDS[card].last4,
            email=email,
            now=int(now),
        )
        self._payments[payment_intent] = {
            "charge": charge,
            "card": card,
            "api_version": api_version,
            "dispute": None,
        }
        self._charges[charge["id"]] = payment_intent
        return copy.deepcopy(charge)

    def after_payment(self, payment_intent: str, *, now: float) -> None:
        """Do what the card does once its payment is announced: 0259's is disputed."""
        payment = self._payments[payment_intent]
        if CARDS[payment["card"]].disputed:
            self._dispute(payment, now=int(now))

    def charge(self, charge_id: str) -> dict:
        return copy.deepcopy(self._payments[self._payment_of_charge(charge_id)]["charge"])

    def _payment_of_charge(self, charge_id: str) -> str:
        payment_intent = self._charges.get(charge_id)
        if payment_intent is None:
            raise StripeError(
                f"No such charge: '{charge_id}'", status=404, param="id", code="resource_missing"
            )
        return payment_intent

    def _payment(self, payment_intent: str) -> dict:
        payment = self._payments.get(payment_intent)
        if payment is None:
            raise StripeError(
                f"No such payment_intent: '{payment_intent}'",
                status=404,
                param="id",
                code="resource_missing",
            )
        return payment

    def _dispute(self, payment: dict, *, now: int) -> None:
        charge = payment["charge"]
        charge["disputed"] = True
        payment["dispute"] = dispute_object(
            charge=charge["id"],
            payment_intent=charge["payment_intent"],
            amount=charge["amount"],
            currency=charge["currency"],
            now=now,
        )
        self._emit("charge.dispute.created", payment["dispute"], payment["api_version"], NO_REQUEST)

    # -- refunds ---------------------------------------------------------------------------

    def refund(self, clean: dict, *, request: dict, now: float) -> dict:
        """Refund part or all of what is left of a payment, as Stripe does; return the refund."""
        payment = self._payment(clean["payment_intent"] or self._payment_of_charge(clean["charge"]))
        charge = payment["charge"]
        if charge["disputed"]:
            raise StripeError(
                f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                code="charge_disputed",
            )
        left = charge["amount"] - self._committed(charge["id"])
        if left <= 0:
            raise StripeError(
                f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
            )
        amount = left if clean["amount"] is None else clean["amount"]
        if amount > left:
            currency = charge["currency"]
            raise StripeError(
                f"Refund amount ({money(amount, currency)}) is greater than unrefunded amount on "
                f"charge ({money(left, currency)})",
                param="amount",
            )
        card = CARDS[payment["card"]]
        refund = refund_object(
            amount=amount,
            charge=charge["id"],
            payment_intent=charge["payment_intent"],
            currency=charge["currency"],
            metadata=clean["metadata"],
            reason=clean["reason"],
            status=card.refund_status,
            now=int(now),
        )
        self._refunds[refund["id"]] = {
            "refund": refund,
            "settles_at": now + SETTLE_SECONDS if card.settles_to else None,
            "settles_to": card.settles_to,
        }
        self._emit("refund.created", refund, payment["api_version"], request)
        if refund["status"] == "succeeded":
            self._book(payment, amount, request=request)
        return copy.deepcopy(refund)

    def get_refund(self, refund_id: str) -> dict:
        record = self._refunds.get(refund_id)
        if record is None:
            raise StripeError(
                f"No such refund: '{refund_id}'",
                status=404,
                param="refund",
                code="resource_missing",
            )
        return copy.deepcopy(record["refund"])

    def list_refunds(self, clean: dict) -> dict:
        """Return a page of refunds, the newest first, as Stripe lists them."""
        if clean["charge"] is not None:
            self._payment_of_charge(clean["charge"])
        if clean["payment_intent"] is not None:
            self._payment(clean["payment_intent"])
        refunds = [
            r["refund"]
            for r in reversed(self._refunds.values())
            if clean["charge"] in (None, r["refund"]["charge"])
            and clean["payment_intent"] in (None, r["refund"]["payment_intent"])
        ]
        if clean["starting_after"] is not None:
            ids = [r["id"] for r in refunds]
            if clean["starting_after"] not in ids:
                self.get_refund(clean["starting_after"])  # raises Stripe's 404
                refunds = []
            else:
                refunds = refunds[ids.index(clean["starting_after"]) + 1 :]
        return {
            "object": "list",
            "data": copy.deepcopy(refunds[: clean["limit"]]),
            "has_more": len(refunds) > clean["limit"],
            "url": "/v1/refunds",
        }

    def settle(self, *, now: float | None) -> int:
        """Give the refunds waiting for it their later status (all of them if `now` is None);
        return how many changed."""
        due = [
            record
            for record in self._refunds.values()
            if record["settles_to"] and (now is None or record["settles_at"] <= now)
        ]
        for record in due:
            self._settle(record)
        return len(due)

    def _settle(self, record: dict) -> None:
        refund, status = record["refund"], record["settles_to"]
        record["settles_to"] = record["settles_at"] = None
        payment = self._payments[refund["payment_intent"]]
        version = payment["api_version"]
        previous = {"status": refund["status"]}
        if status == "succeeded":
            previous["pending_reason"] = refund.pop("pending_reason", None)
            refund["status"] = "succeeded"
            self._emit("refund.updated", refund, version, NO_REQUEST, previous)
            self._book(payment, refund["amount"], request=NO_REQUEST)
        else:
            previous |= {"failure_balance_transaction": None, "failure_reason": None}
            refund.update(
                status="failed",
                failure_balance_transaction=random_id("txn_"),
                failure_reason=FAILURE_REASON,
            )
            # The money comes back to the shop's balance: the charge no longer counts it.
            self._book(payment, -refund["amount"], request=NO_REQUEST)
            self._emit("refund.updated", refund, version, NO_REQUEST, previous)
            self._emit("refund.failed", refund, version, NO_REQUEST)

    def _committed(self, charge_id: str) -> int:
        """Return what the charge's refunds take or may still take: pending and succeeded."""
        return sum(
            r["refund"]["amount"]
            for r in self._refunds.values()
            if r["refund"]["charge"] == charge_id and r["refund"]["status"] in PENDING_OR_DONE
        )

    def _book(self, payment: dict, amount: int, *, request: dict) -> None:
        """Count a refund's amount in its charge (less, for one that failed); Stripe announces
        only money refunded, with charge.refunded."""
        charge = payment["charge"]
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        if amount > 0:
            self._emit("charge.refunded", charge, payment["api_version"], request, previous)
