"""Random codes that people read aloud and type: order numbers, coupon codes."""

import secrets

# No 0/O and no 1/I: a code read over the phone or from a flyer is typed without doubt.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def random_code(length: int, alphabet: str = ALPHABET) -> str:
    """Return length characters drawn from alphabet by the operating system's CSPRNG."""
    return "".join(secrets.choice(alphabet) for _ in range(length))
