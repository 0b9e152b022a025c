"""Fixed-window attempt counters in the shared cache (Redis in production, so every web process
and host sees the same counts): the admin login and the coupon form use them."""

import hashlib

from django.conf import settings
from django.core.cache import cache

# (scope, subject, limit): e.g. ("coupon-address", "203.0.113.9", 50)
Limit = tuple[str, str, int]


def client_address(request) -> str:
    """Return the client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_HOPS proxies the entry
    the outermost of them appended to X-Forwarded-For (entries left of it can be forged)."""
    hops = settings.TRUSTED_PROXY_HOPS
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [address for address in forwarded if address]
    if hops > 0 and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def _key(scope: str, subject: str) -> str:
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}"


def over_limit(limits: list[Limit]) -> bool:
    """Return whether any subject has used up its attempts in the current window."""
    counts = cache.get_many([_key(scope, subject) for scope, subject, _ in limits])
    return any(counts.get(_key(scope, subject), 0) >= limit for scope, subject, limit in limits)


def count_attempt(limits: list[Limit], *, window_seconds: int) -> None:
    """Count one attempt against every subject of limits."""
    for scope, subject, _ in limits:
        key = _key(scope, subject)
        # The window starts at the first attempt (add); later ones don't extend it.
        cache.add(key, 0, timeout=window_seconds)
        try:
            cache.incr(key)  # atomic on Redis
        except ValueError:  # the window ended between add() and incr()
            cache.set(key, 1, timeout=window_seconds)


def forget(scope: str, subject: str) -> None:
    cache.delete(_key(scope, subject))
