"""Fixed-window attempt counters in the shared cache (Redis in production, so every web process
and host sees the same counts): the admin login, the coupon form and order placement use them.

Each counter belongs to a scope, which says what happens when the cache cannot be reached:
a scope that guards against abuse (passwords, coupon codes, orders) fails closed and refuses
for a moment; a scope that only paces browsing fails open, with a warning in the log.
"""

import hashlib
import ipaddress
import logging
import math
import time
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from core.cache import cache_away, cache_failed
from core.exceptions import TooManyRequests

logger = logging.getLogger(__name__)

# IPv6 hands every subscriber a /64 (often more): counting single addresses would give each
# client billions of fresh counters.
IPV6_GROUP_PREFIX = 64
EVERYONE = "*"  # the subject of a global scope


class Scope(NamedTuple):
    name: str
    fail_closed: bool  # refuse when the cache is away (True) or let the request through


class Limit(NamedTuple):
    scope: Scope
    subject: str
    limit: int


class CacheAway(Exception):
    """The shared cache did not answer."""


def client_address(request) -> str:
    """Return the client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_HOPS proxies the entry
    the outermost of them appended to X-Forwarded-For (entries left of it can be forged)."""
    hops = settings.TRUSTED_PROXY_HOPS
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [address for address in forwarded if address]
    if hops > 0 and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def address_group(address: str) -> str:
    """Return the group an address is counted in: an IPv4 address itself, an IPv6 address's
    /64 network (an IPv4-mapped one as IPv4); text that is no address, as it is."""
    try:
        parsed = ipaddress.ip_address(address.strip().split("%", 1)[0])
    except ValueError:
        return address.strip()
    if parsed.version == 6 and parsed.ipv4_mapped:
        return str(parsed.ipv4_mapped)
    if parsed.version == 4:
        return str(parsed)
    return str(ipaddress.ip_network(f"{parsed}/{IPV6_GROUP_PREFIX}", strict=False))


def client_group(request) -> str:
    """Return the address group of the request's client (see address_group)."""
    return address_group(client_address(request))


def _key(scope: Scope | str, subject: str) -> str:
    name = scope.name if isinstance(scope, Scope) else scope
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return f"ratelimit:{name}:{digest}"


def _ends_key(key: str) -> str:
    return f"{key}:ends"


class Refusal(NamedTuple):
    seconds: int  # until a new attempt can be let through
    cache_away: bool  # refused because the counts could not be read


def _cache_away(limits: list[Limit], error: Exception) -> Refusal | None:
    closed = [limit.scope.name for limit in limits if limit.scope.fail_closed]
    logger.warning(
        "Rate limit cache unavailable (%s: %s); %s",
        type(error).__name__,
        error,
        f"refusing ({', '.join(closed)})" if closed else "letting the request through",
    )
    return Refusal(settings.RATELIMIT_CACHE_AWAY_RETRY_SECONDS, True) if closed else None


def refusal(limits: list[Limit]) -> Refusal | None:
    """Return why and how long an attempt is refused, or None when it may go ahead.

    An attempt is refused while any subject of limits has used up its limit. When the cache
    does not answer, a fail-closed scope among limits refuses for
    RATELIMIT_CACHE_AWAY_RETRY_SECONDS; fail-open ones let the attempt through.
    """
    if cache_away():  # found away moments ago: not worth another connection timeout
        return _cache_away(limits, CacheAway("the shared cache was away moments ago"))
    keys = [_key(scope, subject) for scope, subject, _ in limits]
    try:
        values = cache.get_many(keys + [_ends_key(key) for key in keys])
    except Exception as error:  # any backend's failure: the policy decides, never a 500
        cache_failed(error)
        return _cache_away(limits, error)
    now, wait = time.time(), 0
    for key, (_, _, limit) in zip(keys, limits, strict=True):
        if values.get(key, 0) >= limit:
            ends = values.get(_ends_key(key))
            # A count without its end (written by an older release) is given a minute.
            left = math.ceil(ends - now) if isinstance(ends, int | float) else 60
            wait = max(wait, left, 1)
    return Refusal(wait, False) if wait else None


def over_limit(limits: list[Limit]) -> bool:
    """Return whether an attempt is refused now (see refusal)."""
    return refusal(limits) is not None


def count_attempt(limits: list[Limit], *, window_seconds: int) -> None:
    """Count one attempt against every subject of limits (a cache away counts nothing)."""
    if cache_away():
        return
    try:
        for scope, subject, _ in limits:
            key = _key(scope, subject)
            # The window starts at the first attempt (add); later ones don't extend it.
            if cache.add(key, 0, timeout=window_seconds):
                cache.set(_ends_key(key), time.time() + window_seconds, timeout=window_seconds)
            try:
                cache.incr(key)  # atomic on Redis
            except ValueError:  # the window ended between add() and incr()
                cache.set(key, 1, timeout=window_seconds)
    except Exception as error:  # the request was allowed already: say so, don't fail it
        cache_failed(error)
        logger.warning("Rate limit cache unavailable, attempt not counted: %s", error)


def forget(scope: Scope | str, subject: str) -> None:
    try:
        cache.delete(_key(scope, subject))
    except Exception as error:
        logger.warning("Rate limit cache unavailable, counter not reset: %s", error)


def too_many_requests(request, refusal: TooManyRequests, *, back_url: str) -> HttpResponse:
    """Return the 429 page: what was refused, and from when to try again (also Retry-After)."""
    message, retry_after = str(refusal), refusal.retry_after
    retry_at = timezone.localtime() + timedelta(seconds=retry_after)
    context = {
        "message": message,
        "retry_after": retry_after,
        "retry_minutes": max(1, math.ceil(retry_after / 60)),
        "retry_at": retry_at,
        "back_url": back_url,
    }
    response = HttpResponse(render_to_string("429.html", context, request=request), status=429)
    response["Retry-After"] = str(retry_after)
    return response
