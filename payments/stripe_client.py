"""The only module that talks to Stripe's API, through the official SDK.

With no STRIPE_SECRET_KEY the same calls go to the local sandbox (payments/sandbox), which only a
DEBUG (development) or test configuration allows.

Every call is tried up to three times (what Stripe says may be retried), each try waiting at most
STRIPE_TIMEOUT_SECONDS. Inside `time_budget(seconds)` all the calls together, retries and pauses
included, take at most that long: a web request that talks to Stripe must answer well before the
web server gives up on its worker.
"""

import hashlib
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import TypeVar

import requests
import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.money import to_minor_units
from orders.models import Order

logger = logging.getLogger(__name__)

# The SDK's telemetry sends request timings to Stripe and keeps an id in a file under $HOME, where
# a container of ours writes nothing.
stripe.enable_telemetry = False

T = TypeVar("T")
ATTEMPTS = 3
# A try that could last less than this is not worth starting.
MIN_TRY_SECONDS = 0.2
# Session requests made within the same five minutes, for the same attempt, share their
# idempotency key and so their session (see create_checkout_session).
ATTEMPT_WINDOW_SECONDS = 300
MAX_EXPIRY_SECONDS = 24 * 60 * 60
# What a shop may say of a refund, as Stripe takes it.
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")

_deadline: ContextVar[float | None] = ContextVar("stripe_deadline", default=None)


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Give the Stripe calls made inside `seconds` in all, retries and pauses included.

    Each try's timeout is what is left; once nothing is, a call fails at once with
    stripe.APIConnectionError, as if Stripe were down.
    """
    deadline = time.monotonic() + seconds
    outer = _deadline.get()
    token = _deadline.set(deadline if outer is None else min(deadline, outer))
    try:
        yield
    finally:
        _deadline.reset(token)


def _remaining() -> float | None:
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


class _BudgetedSession(requests.Session):
    """A requests session that never waits longer than what is left of the time budget.

    The SDK shares it between threads, as requests' connection pool allows; the budget itself
    is per thread (a context variable).
    """

    def request(self, method, url, *args, timeout=None, **kwargs):
        left = _remaining()
        if left is not None:
            left = max(left, 0.001)
            timeout = left if timeout is None else min(timeout, left)
        return super().request(method, url, *args, timeout=timeout, **kwargs)


@cache
def _client(api_key: str, api_base: str | None, timeout: float) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=0,  # _call retries, within the time budget
        http_client=stripe.RequestsClient(timeout=timeout, session=_BudgetedSession()),
    )


def client() -> stripe.StripeClient:
    # What a customer waits for at most when Stripe is slow, per try.
    timeout = settings.STRIPE_TIMEOUT_SECONDS
    if settings.STRIPE_SECRET_KEY:
        return _client(settings.STRIPE_SECRET_KEY, None, timeout)
    if not settings.STRIPE_SANDBOX_ALLOWED:
        raise ImproperlyConfigured("STRIPE_SECRET_KEY is required when DEBUG is off.")
    return _client("sk_test_sandbox", settings.STRIPE_SANDBOX_URL, timeout)


def _call(operation: Callable[..., T], *args) -> T:
    """Make one API call, retrying what may be retried, within the time budget if one runs."""
    left = _remaining()
    if left is not None and left < MIN_TRY_SECONDS:
        raise stripe.APIConnectionError(
            "Stripe did not answer within the time this request may wait for it.",
            should_retry=False,
        )
    attempt = 1
    while True:
        try:
            return operation(*args)
        except stripe.StripeError as error:
            # Backing off as Stripe's SDK does: about 0.5 s, then about 1 s, with jitter.
            pause = 0.5 * 2 ** (attempt - 1) * (0.5 + random.random() / 2)
            left = _remaining()
            if (
                attempt == ATTEMPTS
                or not _retryable(error)
                or (left is not None and left - pause < MIN_TRY_SECONDS)
            ):
                raise
        time.sleep(pause)
        attempt += 1


def _retryable(error: stripe.StripeError) -> bool:
    """Return whether Stripe's SDK would try the call again (network trouble, 409, 5xx)."""
    if isinstance(error, stripe.APIConnectionError):
        return error.should_retry
    headers = {name.lower(): value for name, value in (error.headers or {}).items()}
    hint = headers.get("stripe-should-retry")
    if hint in ("true", "false"):
        return hint == "true"
    status = error.http_status or 0
    return status == 409 or status >= 500


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


def shipping_options(order: Order) -> list[dict]:
    """Return the order's delivery as Checkout's one shipping rate: its charge, never discounted.

    The address is the shop's to keep (the checkout asked for it), so Stripe collects none.
    """
    currency = order.currency.lower()
    if order.collected:
        name = "Click & collect"
    elif order.delivery_charge:
        name = f"Delivery to {order.get_country_display()}"
    else:
        name = f"Free delivery to {order.get_country_display()}"
    return [
        {
            "shipping_rate_data": {
                "type": "fixed_amount",
                "fixed_amount": {
                    "amount": to_minor_units(order.delivery_charge, currency),
                    "currency": currency,
                },
                "display_name": name[:100],
            }
        }
    ]


def amount_off(order: Order, items: list[dict]) -> int:
    """Return the discount to send, in minor units: exactly what takes the items to the wine's
    part of the total (the coupon never discounts the delivery)."""
    listed = sum(i["price_data"]["unit_amount"] * i["quantity"] for i in items)
    off = listed - to_minor_units(order.total - order.delivery_charge, order.currency)
    if off < 0 or (off > 0) != (order.discount > 0):
        raise ValueError(f"Line items of order {order.number} do not add up to its total.")
    return off


def _discounts(order: Order, off: int, attempt: str) -> list[dict]:
    """Create a one-off Stripe coupon for the order's discount; Checkout shows it as a line."""
    if not off:
        return []
    coupon = _call(
        client().v1.coupons.create,
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
    *, order: Order, success_url: str, cancel_url: str, replaces: str = ""
) -> stripe.checkout.Session:
    """Create a Checkout Session for a pending order, in place of the session `replaces`.

    Stripe charges the items less the discount plus the delivery's shipping rate, which add up to
    the order's total to the cent.
    The idempotency key names the order, the session replaced and the five minutes the request
    falls in, and every parameter follows from those: a request sent again after its answer was
    lost (a timeout) gets the very session Stripe already made, never a second payable one.
    """
    now = int(time.time())
    window = now - now % ATTEMPT_WINDOW_SECONDS
    attempt = hashlib.sha256(
        f"{replaces}|{window}|{success_url}|{cancel_url}".encode()
    ).hexdigest()[:24]
    items = line_items(order)
    discounts = _discounts(order, amount_off(order, items), attempt)
    # Counted from the window's start, so the same within it; between 30 minutes and 24 hours
    # ahead as Stripe requires, with a minute to spare for the clocks' difference.
    lifetime = settings.STRIPE_CHECKOUT_EXPIRY_MINUTES * 60 + ATTEMPT_WINDOW_SECONDS + 60
    return _call(
        client().v1.checkout.sessions.create,
        {
            "mode": "payment",
            "line_items": items,
            **({"discounts": discounts} if discounts else {}),
            "shipping_options": shipping_options(order),
            "client_reference_id": str(order.pk),
            "metadata": {"order_number": order.number},
            # Carried by the session's PaymentIntent, whose events (a declined card) name the
            # order by it: they know nothing of the session.
            "payment_intent_data": {
                "metadata": {"order_id": str(order.pk), "order_number": order.number}
            },
            "customer_email": order.email,
            # Stripe's page in the language the customer shopped in (ours are all Stripe's).
            "locale": order.language or "auto",
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": window + min(lifetime, MAX_EXPIRY_SECONDS - 60),
        },
        {"idempotency_key": f"checkout-{order.number}-{attempt}"},
    )


def retrieve_checkout_session(session_id: str) -> stripe.checkout.Session:
    return _call(client().v1.checkout.sessions.retrieve, session_id)


def expire_checkout_session(session_id: str) -> stripe.checkout.Session:
    """Expire an open Checkout Session: its page can no longer be paid."""
    return _call(
        client().v1.checkout.sessions.expire,
        session_id,
        None,
        {"idempotency_key": f"expire-{session_id}"},
    )


def refund_idempotency_key(refund_id: int) -> str:
    """Return the idempotency key of the requests refunding our refund `refund_id`."""
    return f"refund-{refund_id}"


def refund_create(
    *,
    payment_intent: str,
    amount_minor: int,
    currency: str,
    refund_id: int,
    order_number: str,
    reason: str | None = None,
) -> dict:
    """Refund `amount_minor` of the payment for our refund `refund_id`; return Stripe's Refund
    as a dict, shaped as its refund events carry it.

    The idempotency key names the refund and every parameter follows from the refund, so a
    request sent again after its answer was lost (a timeout) gets the refund Stripe already made,
    never a second one. The refund's id and the order number go in its metadata, so that the
    refund's events name them. Stripe refunds in the payment's currency and refuses a currency
    sent with the refund: `currency`, the order's, is checked against its answer.
    """
    if type(amount_minor) is not int or amount_minor < 1:
        raise ValueError(f"A refund is a positive number of minor units, not {amount_minor!r}.")
    if reason is not None and reason not in REFUND_REASONS:
        raise ValueError(f"Stripe takes a refund's reason among {REFUND_REASONS}, not {reason!r}.")
    params = {
        "payment_intent": payment_intent,
        "amount": amount_minor,
        "metadata": {"refund_id": str(refund_id), "order_number": order_number},
        **({"reason": reason} if reason else {}),
    }
    refund = _call(
        client().v1.refunds.create,
        params,
        {"idempotency_key": refund_idempotency_key(refund_id)},
    ).to_dict()
    if refund.get("currency") != currency.lower():
        # The money has moved: the refund is returned all the same, so that it is recorded.
        logger.error(
            "Stripe refunded %s in %s for refund %s of order %s, which is in %s.",
            refund.get("id"),
            refund.get("currency"),
            refund_id,
            order_number,
            currency,
        )
    return refund


def refund_retrieve(*, stripe_refund_id: str) -> dict:
    """Return Stripe's Refund as it is now (a pending refund's outcome, for one)."""
    return _call(client().v1.refunds.retrieve, stripe_refund_id).to_dict()


def refund_list(*, payment_intent: str) -> list[dict]:
    """Return every refund of the payment, ours and those made in Stripe's dashboard, the newest
    first."""
    refunds: list[dict] = []
    params: dict = {"payment_intent": payment_intent, "limit": 100}
    while True:
        page = _call(client().v1.refunds.list, params)
        refunds += [refund.to_dict() for refund in page.data]
        if not page.has_more or not page.data:
            return refunds
        params = {**params, "starting_after": page.data[-1].id}


def is_missing(error: stripe.StripeError) -> bool:
    """Return whether Stripe answered that the object asked for does not exist."""
    return isinstance(error, stripe.InvalidRequestError) and error.code == "resource_missing"


def dashboard_url(payment_intent: str) -> str:
    """Return the Stripe dashboard page of a payment (test mode unless the key is live)."""
    mode = "" if live_mode() else "test/"
    return f"https://dashboard.stripe.com/{mode}payments/{payment_intent}"


def live_mode() -> bool:
    """Whether the key moves real money: its events say livemode true, a test key's and the
    sandbox's say false."""
    return settings.STRIPE_SECRET_KEY.startswith(("sk_live_", "rk_live_"))


def is_test_key() -> bool:
    return settings.STRIPE_SECRET_KEY.startswith(("sk_test_", "rk_test_"))
