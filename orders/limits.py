"""Checkout limits: how often one client may place orders, and how many unpaid ones it may hold.

Placements are a rate: they are counted in the shared limiter (core.ratelimit) per
session, per client address group (an IPv6 /64) and for the whole shop. Unpaid orders are a
state: they are counted in the database, where they are, so that paying or expiring an order
frees its place at once. An order keeps a keyed hash of the address group it was placed from,
the session knows the numbers of the orders it placed, and the email is on the order.

Two placements in flight at the same instant from one client may both see room for one more
unpaid order; the placement rate bounds what that can add.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from core.ratelimit import EVERYONE, Limit, Scope, count_attempt, refusal
from orders.exceptions import TooManyOrders
from orders.models import Order

# While the counters are away the shop keeps selling: refusing every checkout would take it down
# with the cache. What a flood could hold stays bounded all the same, by the caps on unpaid
# orders, which are counted in the database.
PLACEMENTS_PER_SESSION = Scope("order-session", fail_closed=False)
PLACEMENTS_PER_ADDRESS = Scope("order-address", fail_closed=False)
PLACEMENTS_GLOBAL = Scope("order-global", fail_closed=False)


@dataclass(frozen=True)
class Placer:
    """Who is placing an order: their session, their address group, the orders they placed."""

    session_key: str
    address_group: str
    session_orders: Sequence[str] = ()

    @property
    def placed_from(self) -> str:
        return salted_hmac("orders.placed_from", self.address_group).hexdigest()[:32]


def _limits(placer: Placer) -> list[Limit]:
    return [
        Limit(PLACEMENTS_PER_SESSION, placer.session_key, settings.ORDER_PLACEMENTS_PER_SESSION),
        Limit(PLACEMENTS_PER_ADDRESS, placer.address_group, settings.ORDER_PLACEMENTS_PER_ADDRESS),
        Limit(PLACEMENTS_GLOBAL, EVERYONE, settings.ORDER_PLACEMENTS_GLOBAL),
    ]


def placement_count(*, placer: Placer) -> None:
    """Count one placement attempt, or raise TooManyOrders when a limit is used up."""
    limits = _limits(placer)
    refused = refusal(limits)
    if refused:
        raise TooManyOrders(
            _(
                "Too many orders were placed from here or in the shop lately to take yours now. "
                "Your cart is kept."
            ),
            retry_after=refused.seconds,
        )
    count_attempt(limits, window_seconds=settings.ORDER_PLACEMENTS_WINDOW_MINUTES * 60)


def released_at(order: Order) -> datetime:
    """Return when the pending order expires if it stays unpaid (see order_expire_unpaid)."""
    minutes = (
        settings.ORDER_UNPAID_EXPIRY_MINUTES
        if order.stripe_session_id
        else settings.ORDER_UNREACHED_HOLD_MINUTES
    )
    return order.created + timedelta(minutes=minutes)


def open_orders_check(*, placer: Placer, email: str) -> None:
    """Raise TooManyOrders when the session, address group or email holds its most unpaid orders.

    One query over the pending orders of any of the three.
    """
    mine = Q(placed_from=placer.placed_from) | Q(email__iexact=email)
    if placer.session_orders:
        mine |= Q(number__in=list(placer.session_orders))
    pending = list(
        Order.objects.filter(mine, status=Order.Status.PENDING).only(
            "number", "email", "placed_from", "created", "stripe_session_id"
        )
    )
    caps = [
        (
            [o for o in pending if o.number in placer.session_orders],
            settings.ORDER_OPEN_PER_SESSION,
        ),
        (
            [o for o in pending if o.placed_from == placer.placed_from],
            settings.ORDER_OPEN_PER_ADDRESS,
        ),
        (
            [o for o in pending if o.email.casefold() == email.casefold()],
            settings.ORDER_OPEN_PER_EMAIL,
        ),
    ]
    full = [(orders, cap) for orders, cap in caps if len(orders) >= cap]
    if not full:
        return
    # A cap has room again once enough of its orders expired to bring it below the cap.
    free_at = max(sorted(released_at(o) for o in orders)[len(orders) - cap] for orders, cap in full)
    raise TooManyOrders(
        _(
            "Orders placed from here are already awaiting payment. Please pay for one of them, "
            "or try again once an unpaid one has been released."
        ),
        retry_after=max(60, int((free_at - timezone.now()).total_seconds()) + 1),
    )
