"""The admin login, throttled against password guessing.

Failures are counted per username and per client address (core.ratelimit). Once either
count reaches its limit, further attempts are refused without checking the password until the
window has passed: a guesser learns nothing, and a merchant who mistyped sees why.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from unfold.forms import AuthenticationForm

from core.ratelimit import Limit, Refusal, Scope, client_group, count_attempt, forget
from core.ratelimit import refusal as limit_refusal

LOGIN_USERNAME = Scope("login-username", fail_closed=True)
LOGIN_ADDRESS = Scope("login-address", fail_closed=True)


class LoginThrottle:
    def __init__(self, *, username: str, address: str):
        self.username = username.strip().casefold()
        self.limits = [
            Limit(LOGIN_USERNAME, self.username, settings.LOGIN_THROTTLE_USERNAME_FAILURES),
            Limit(LOGIN_ADDRESS, address, settings.LOGIN_THROTTLE_ADDRESS_FAILURES),
        ]

    def refusal(self) -> Refusal | None:
        return limit_refusal(self.limits)

    def blocked(self) -> bool:
        return self.refusal() is not None

    def failed(self) -> None:
        count_attempt(self.limits, window_seconds=settings.LOGIN_THROTTLE_MINUTES * 60)

    def succeeded(self) -> None:
        """Forget the username's failures (not the address's: one valid account must not let
        its owner guess others' passwords)."""
        forget(LOGIN_USERNAME, self.username)


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "too_many_attempts": (
            "Too many failed login attempts. Wait %(minutes)d minutes before trying again."
        ),
        "paused": "Signing in is paused for a moment. Please try again in %(seconds)d seconds.",
    }

    def clean(self):
        throttle = LoginThrottle(
            username=self.cleaned_data.get("username") or "",
            address=client_group(self.request) if self.request else "",
        )
        refused = throttle.refusal()
        if refused and refused.cache_away:
            raise ValidationError(
                self.error_messages["paused"], code="paused", params={"seconds": refused.seconds}
            )
        if refused:
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
