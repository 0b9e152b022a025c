"""The admin login, throttled against password guessing.

Failures are counted per username and per client address (backoffice.ratelimit). Once either
count reaches its limit, further attempts are refused without checking the password until the
window has passed: a guesser learns nothing, and a merchant who mistyped sees why.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from unfold.forms import AuthenticationForm

from backoffice.ratelimit import client_address, count_attempt, forget, over_limit


class LoginThrottle:
    def __init__(self, *, username: str, address: str):
        self.username = username.strip().casefold()
        self.limits = [
            ("login-username", self.username, settings.LOGIN_THROTTLE_USERNAME_FAILURES),
            ("login-address", address, settings.LOGIN_THROTTLE_ADDRESS_FAILURES),
        ]

    def blocked(self) -> bool:
        return over_limit(self.limits)

    def failed(self) -> None:
        count_attempt(self.limits, window_seconds=settings.LOGIN_THROTTLE_MINUTES * 60)

    def succeeded(self) -> None:
        """Forget the username's failures (not the address's: one valid account must not let
        its owner guess others' passwords)."""
        forget("login-username", self.username)


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
