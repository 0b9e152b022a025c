"""The admin login, throttled against password guessing.

Failures are counted in the shared cache (Redis in production, so every web process and host
sees the same counts) per username and per client address. Once either count reaches its limit,
further attempts are refused without checking the password until the window has passed: a
guesser learns nothing, and a merchant who mistyped sees why.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from unfold.forms import AuthenticationForm


def client_address(request) -> str:
    """Return the client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_HOPS proxies the entry
    the outermost of them appended to X-Forwarded-For (entries left of it can be forged)."""
    hops = settings.TRUSTED_PROXY_HOPS
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [address for address in forwarded if address]
    if hops > 0 and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"backoffice:login-failures:{kind}:{digest}"


class LoginThrottle:
    def __init__(self, *, username: str, address: str):
        self.limits = {
            _key("username", username.strip().casefold()): (
                settings.LOGIN_THROTTLE_USERNAME_FAILURES
            ),
            _key("address", address): settings.LOGIN_THROTTLE_ADDRESS_FAILURES,
        }
        self.username_key = next(iter(self.limits))
        self.window = settings.LOGIN_THROTTLE_MINUTES * 60

    def blocked(self) -> bool:
        counts = cache.get_many(list(self.limits))
        return any(counts.get(key, 0) >= limit for key, limit in self.limits.items())

    def failed(self) -> None:
        for key in self.limits:
            # The window starts at the first failure; later ones don't extend it.
            cache.add(key, 0, self.window)
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, self.window)

    def succeeded(self) -> None:
        """Forget the username's failures (not the address's: one valid account must not let
        its owner guess others' passwords)."""
        cache.delete(self.username_key)


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "too_many_attempts": (
            "Too many failed login attempts. Wait %(minutes)d minutes before trying again."
        ),
    }

    def clean(self):
        throttle = LoginThrottle(
            username=self.cleaned_data.get("username") or "",
            address=client_address(self.request) if self.request else "",
        )
        if throttle.blocked():
            raise ValidationError(
                self.error_messages["too_many_attempts"],
                code="too_many_attempts",
                params={"minutes": settings.LOGIN_THROTTLE_MINUTES},
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            throttle.failed()
            raise
        throttle.succeeded()
        return cleaned
