"""Fixed-window attempt counters in the shared cache (Redis in production)."""

import hashlib

from django.conf import settings
from django.core.cache import cache


def client_address(request) -> str:
    """Return the client's IP address, trusting only the configured number of proxies."""
    proxies = settings.NUM_PROXIES
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def _key(scope: str, subject: str) -> str:
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}"


def attempts(scope: str, subject: str) -> int:
    """Return the attempts counted for subject in scope's current window."""
    return cache.get(_key(scope, subject), 0)


def count_attempt(scope: str, subject: str, *, window_seconds: int) -> int:
    """Count one attempt; return the count in the current window."""
    key = _key(scope, subject)
    # add() starts the window only if none is running; incr() is atomic on Redis.
    cache.add(key, 0, timeout=window_seconds)
    try:
        return cache.incr(key)
    except ValueError:  # the window ended between add() and incr()
        cache.set(key, 1, timeout=window_seconds)
        return 1
