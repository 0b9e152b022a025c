"""The sandbox's memory: Checkout Sessions, coupons, payments and their refunds (the ledger),
idempotent replies and the requests it was sent.

One lock guards it all, since the server answers each request in a thread of its own; with a
path it is also kept in a JSON file, so that a restarted sandbox still knows its sessions and
payments.
"""

import copy
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable

from payments.sandbox import params as checked
from payments.sandbox.ledger import NO_REQUEST, Ledger
from payments.sandbox.objects import DEFAULT_CARD, payment_intent_object
from payments.sandbox.wire import StripeError, random_id

logger = logging.getLogger(__name__)

IDEMPOTENCY_TTL = 24 * 60 * 60  # Stripe forgets a key after 24 hours

# (type, object, API version, request, previous attributes or None)
OnEvent = Callable[[str, dict, str, dict, dict | None], None]


class Store:
    def __init__(
        self,
        *,
        base_url: str,
        on_event: OnEvent,
        path: str | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.base_url = base_url
        self._clock = clock
        self._on_event = on_event
        self._path = path
        self._lock = threading.RLock()
        self._sessions: dict[str, dict] = {}
        self._coupons: dict[str, dict] = {}
        self._idempotency: dict[str, dict] = {}
        self._requests: list[dict] = []
        saved: dict = {}
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as file:
                saved = json.load(file)
            self._sessions, self._idempotency = saved["sessions"], saved["idempotency"]
            self._coupons = saved.get("coupons", {})
        self._ledger = Ledger(emit=self._send, saved=saved.get("ledger"))
        if saved:
            logger.info(
                "Loaded %d Checkout Sessions, %d payments and %d refunds from %s.",
                len(self._sessions),
                *self._ledger.count(),
                path,
            )

    # -- the API ---------------------------------------------------------------------------

    def idempotent(self, key: str | None, fingerprint: str, action: Callable[[], dict]) -> tuple:
        """Run a POST's action once per Idempotency-Key; return (body, replayed).

        As at Stripe, a key reused with other parameters is an error, and only requests that
        passed validation are remembered.
        """
        with self._lock:
            now = self._clock()
            self._idempotency = {
                k: v for k, v in self._idempotency.items() if v["at"] > now - IDEMPOTENCY_TTL
            }
            saved = self._idempotency.get(key) if key else None
            if saved is not None:
                if saved["fingerprint"] != fingerprint:
                    raise StripeError(
                        "Keys for idempotent requests can only be used with the same parameters "
                        f"they were first used with. Try using a key other than '{key}' if you "
                        "meant to execute a different request.",
                        type="idempotency_error",
                    )
                return copy.deepcopy(saved["body"]), True
            body = action()
            if key:
                self._idempotency[key] = {"fingerprint": fingerprint, "body": body, "at": now}
            self._save()
            return copy.deepcopy(body), False

    def create_coupon(self, params: dict) -> dict:
        with self._lock:
            clean = checked.coupon_params(params)
            coupon = {
                "id": random_id("", 8),
                "object": "coupon",
                "created": int(self._clock()),
                "livemode": False,
                "percent_off": None,
                "times_redeemed": 0,
                "valid": True,
                **clean,
            }
            self._coupons[coupon["id"]] = coupon
            return copy.deepcopy(coupon)

    def create_session(self, params: dict, *, api_version: str) -> dict:
        with self._lock:
            now = int(self._clock())
            clean = checked.session_params(params, now=now)
            session_id = random_id("cs_test_", 58)
            amount = sum(item["unit_amount"] * item["quantity"] for item in clean["line_items"])
            discount = sum(self._discount(cid, clean["currency"]) for cid in clean["coupon_ids"])
            # As at Stripe, an amount-off coupon takes the total down to zero, never below.
            discount = min(discount, amount)
            options = [self._shipping_option(option) for option in clean["shipping_options"]]
            session = _session_object(session_id, clean, amount=amount, now=now)
            # As at Stripe, the first shipping option is the one chosen; a coupon never takes
            # anything off it.
            shipping = options[0]["shipping_amount"] if options else 0
            session["amount_total"] = amount - discount + shipping
            session["total_details"]["amount_discount"] = discount
            session["total_details"]["amount_shipping"] = shipping
            session["shipping_options"] = options
            session["shipping_cost"] = (
                {
                    "amount_subtotal": shipping,
                    "amount_tax": 0,
                    "amount_total": shipping,
                    "shipping_rate": options[0]["shipping_rate"],
                }
                if options
                else None
            )
            session["url"] = f"{self.base_url}/pay/{session_id}"
            self._sessions[session_id] = {
                "session": session,
                "line_items": clean["line_items"],
                "coupon_ids": clean["coupon_ids"],
                "api_version": api_version,
                "payment_intent_metadata": clean["payment_intent_metadata"],
            }
            return copy.deepcopy(session)

    def _shipping_option(self, option: dict) -> dict:
        """Return the session's option for a rate made from shipping_rate_data; the sandbox
        keeps no shipping rates of its own, so an id is one it doesn't know."""
        if "shipping_rate" in option:
            rate = option["shipping_rate"]
            raise StripeError(
                f"No such shipping rate: '{rate}'", param="shipping_options[0][shipping_rate]"
            )
        return {"shipping_amount": option["amount"], "shipping_rate": random_id("shr_", 24)}

    def _discount(self, coupon_id: str, currency: str) -> int:
        coupon = self._coupons.get(coupon_id)
        if coupon is None:
            raise StripeError(f"No such coupon: '{coupon_id}'", param="discounts[0][coupon]")
        if coupon["currency"] != currency:
            raise StripeError(
                f"The coupon's currency ({coupon['currency']}) does not match the session's.",
                param="discounts[0][coupon]",
            )
        limit = coupon["max_redemptions"]
        if limit is not None and coupon["times_redeemed"] >= limit:
            raise StripeError(f"Coupon {coupon_id} has been used up.", param="discounts[0][coupon]")
        return coupon["amount_off"]

    def get_session(self, session_id: str) -> dict:
        with self._lock:
            return copy.deepcopy(self._record(session_id)["session"])

    def expire_session(self, session_id: str, *, request: dict) -> dict:
        with self._lock:
            record = self._record(session_id)
            status = record["session"]["status"]
            if status != "open":
                raise StripeError(
                    'Only Checkout Sessions with a status in ["open"] can be expired. This '
                    f'Checkout Session has a status of "{status}".'
                )
            self._expire(record, request=request)
            return copy.deepcopy(record["session"])

    # -- the hosted page -------------------------------------------------------------------

    def page(self, session_id: str) -> tuple[dict, list] | None:
        """Return (session, line items) for the payment page, or None for an unknown id."""
        with self._lock:
            if session_id not in self._sessions:
                return None
            record = self._record(session_id)
            return copy.deepcopy(record["session"]), copy.deepcopy(record["line_items"])

    def pay(self, session_id: str, *, card: str = DEFAULT_CARD) -> bool:
        """Complete an open session as paid by card; return False if it was not open.

        The payment and its charge are kept, for refunds; the card decides what they do.
        """
        with self._lock:
            record = self._record(session_id)
            session = record["session"]
            if session["status"] != "open":
                return False
            charge = self._ledger.pay(
                amount=session["amount_total"],
                currency=session["currency"],
                card=card,
                email=session["customer_email"],
                api_version=record["api_version"],
                now=self._clock(),
                payment_intent=record.get("payment_intent"),  # the one a declined card tried
            )
            session.update(
                status="complete",
                payment_status="paid",
                payment_intent=charge["payment_intent"],
                url=None,
                customer_details={
                    "address": None,
                    "email": session["customer_email"],
                    "name": None,
                    "phone": None,
                    "tax_exempt": "none",
                    "tax_ids": [],
                },
            )
            for coupon_id in record.get("coupon_ids", []):
                self._coupons[coupon_id]["times_redeemed"] += 1
            self._emit("checkout.session.completed", record, NO_REQUEST)
            self._ledger.after_payment(charge["payment_intent"], now=self._clock())
            self._save()
            return True

    def decline(self, session_id: str) -> bool:
        """Decline a card on an open session, as Stripe does: the session stays open, and its
        PaymentIntent (made at the first attempt, kept for the next) announces the failure.
        Return False if the session was not open."""
        with self._lock:
            record = self._record(session_id)
            session = record["session"]
            if session["status"] != "open":
                return False
            record.setdefault("payment_intent", random_id("pi_"))
            intent = payment_intent_object(
                payment_intent=record["payment_intent"],
                amount=session["amount_total"],
                currency=session["currency"],
                metadata=record.get("payment_intent_metadata", {}),
                now=int(self._clock()),
            )
            self._send("payment_intent.payment_failed", intent, record["api_version"], NO_REQUEST)
            self._save()
            return True

    def expire_due(self) -> int:
        """Expire the open sessions whose time is up, as Stripe does on its own; return how many."""
        with self._lock:
            due = [r for r in self._sessions.values() if self._is_due(r["session"])]
            for record in due:
                self._expire(record, request=NO_REQUEST)
            if due:
                self._save()
            return len(due)

    # -- payments and refunds ----------------------------------------------------------------

    def create_refund(self, params: dict, *, request: dict) -> dict:
        """Refund a payment, as POST /v1/refunds does (run it through `idempotent`)."""
        with self._lock:
            clean = checked.refund_params(params)
            return self._ledger.refund(clean, request=request, now=self._clock())

    def dashboard_refund(self, params: dict) -> dict:
        """Refund a payment as a person does in Stripe's dashboard: no request of the shop's,
        and only the metadata they type (usually none)."""
        with self._lock:
            clean = checked.refund_params(params)
            refund = self._ledger.refund(clean, request=NO_REQUEST, now=self._clock())
            self._save()
            return refund

    def get_refund(self, refund_id: str) -> dict:
        with self._lock:
            self._settle_due()
            return self._ledger.get_refund(refund_id)

    def list_refunds(self, params: dict) -> dict:
        with self._lock:
            self._settle_due()
            return self._ledger.list_refunds(checked.list_params(params))

    def get_charge(self, charge_id: str) -> dict:
        with self._lock:
            self._settle_due()
            return self._ledger.charge(charge_id)

    def create_payment(self, params: dict, *, api_version: str) -> dict:
        """Record a card payment made outside Checkout; return its charge."""
        with self._lock:
            clean = checked.payment_params(params)
            charge = self._ledger.pay(
                amount=clean["amount"],
                currency=clean["currency"],
                card=clean["card"] or DEFAULT_CARD,
                email=clean["receipt_email"],
                api_version=api_version,
                now=self._clock(),
                payment_intent=clean["payment_intent"],
            )
            self._ledger.after_payment(charge["payment_intent"], now=self._clock())
            self._save()
            return self._ledger.charge(charge["id"])

    def settle_refunds(self) -> int:
        """Give every refund waiting for its later status that status now; return how many."""
        with self._lock:
            settled = self._ledger.settle(now=None)
            if settled:
                self._save()
            return settled

    def settle_due(self) -> int:
        """Settle the refunds whose time has come, as Stripe does on its own; return how many."""
        with self._lock:
            return self._settle_due()

    # -- the request log -------------------------------------------------------------------

    def log_request(self, entry: dict) -> None:
        with self._lock:
            self._requests.append(entry)

    def log_answer(self, entry: dict, *, status: int) -> None:
        """Record the status a logged request was answered with."""
        with self._lock:
            entry["status"] = status

    def requests(self) -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # -- inside the lock -------------------------------------------------------------------

    def _record(self, session_id: str) -> dict:
        record = self._sessions.get(session_id)
        if record is None:
            raise StripeError(
                f"No such checkout.session: '{session_id}'",
                status=404,
                param="session",
                code="resource_missing",
            )
        if self._is_due(record["session"]):
            self._expire(record, request=NO_REQUEST)
            self._save()
        return record

    def _is_due(self, session: dict) -> bool:
        return session["status"] == "open" and session["expires_at"] <= self._clock()

    def _expire(self, record: dict, *, request: dict) -> None:
        record["session"].update(status="expired", url=None)
        self._emit("checkout.session.expired", record, request)

    def _settle_due(self) -> int:
        settled = self._ledger.settle(now=self._clock())
        if settled:
            self._save()
        return settled

    def _emit(self, event_type: str, record: dict, request: dict) -> None:
        self._send(event_type, record["session"], record["api_version"], request)

    def _send(
        self,
        event_type: str,
        obj: dict,
        api_version: str,
        request: dict,
        previous: dict | None = None,
    ) -> None:
        self._on_event(
            event_type, copy.deepcopy(obj), api_version, dict(request), copy.deepcopy(previous)
        )

    def _save(self) -> None:
        if not self._path:
            return
        folder = os.path.dirname(os.path.abspath(self._path))
        with tempfile.NamedTemporaryFile(
            "w", dir=folder, delete=False, suffix=".tmp", encoding="utf-8"
        ) as file:
            json.dump(
                {
                    "sessions": self._sessions,
                    "coupons": self._coupons,
                    "idempotency": self._idempotency,
                    "ledger": self._ledger.state(),
                },
                file,
            )
        os.replace(file.name, self._path)  # a crash mid-write leaves the old file whole


def _session_object(session_id: str, clean: dict, *, amount: int, now: int) -> dict:
    """Return a checkout.session as Stripe shapes it (the fields a payment-mode session uses)."""
    return {
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": amount,
        "amount_total": amount,
        "cancel_url": clean["cancel_url"],
        "client_reference_id": clean["client_reference_id"],
        "client_secret": None,
        "created": now,
        "currency": clean["currency"],
        "customer": None,
        "customer_creation": "if_required",
        "customer_details": None,
        "customer_email": clean["customer_email"],
        "expires_at": clean["expires_at"],
        "invoice": None,
        "livemode": False,
        "locale": clean.get("locale"),
        "metadata": clean["metadata"],
        "mode": clean["mode"],
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "if_required",
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "status": "open",
        "submit_type": None,
        "success_url": clean["success_url"],
        "shipping_cost": None,
        "shipping_options": [],
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "url": None,
    }
