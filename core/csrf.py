"""A request's CSRF token, as django.middleware.csrf.get_token makes it, from one read of the
system's randomness instead of one per character.

get_token draws each character of a new secret and of the mask it sends with it through
secrets.choice, a system call per character: 64 for a visitor without the cookie, most of the
time of a catalog page served from the cache. The token is the same: a secret of
CSRF_SECRET_LENGTH characters kept in the cookie, and in the page a fresh mask followed by the
secret ciphered with it, so that the page's bytes differ on every request (BREACH).
"""

import os

from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH

_INDEX = {char: index for index, char in enumerate(CSRF_ALLOWED_CHARS)}
# Random bytes below this map evenly onto the allowed characters; the others are dropped.
_EVEN_BELOW = 256 - 256 % len(CSRF_ALLOWED_CHARS)


def random_chars(count: int) -> str:
    """Return `count` characters drawn uniformly from CSRF_ALLOWED_CHARS."""
    chars = ""
    while len(chars) < count:
        # A few bytes more than needed: about 3 % of them are dropped.
        chars += "".join(
            CSRF_ALLOWED_CHARS[byte % len(CSRF_ALLOWED_CHARS)]
            for byte in os.urandom(count + 8)
            if byte < _EVEN_BELOW
        )
    return chars[:count]


def csrf_token(request) -> str:
    """Return the CSRF token of a form on the page, with get_token's effects: the request's
    secret (a new one when it came without the cookie) is sent in the cookie with the answer."""
    drawn = random_chars(2 * CSRF_SECRET_LENGTH)
    mask = drawn[:CSRF_SECRET_LENGTH]
    # As get_token: a secret of the request is sent again to renew the cookie's expiry.
    secret = request.META.setdefault("CSRF_COOKIE", drawn[CSRF_SECRET_LENGTH:])
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    cipher = "".join(
        CSRF_ALLOWED_CHARS[(_INDEX[s] + _INDEX[m]) % len(CSRF_ALLOWED_CHARS)]
        for s, m in zip(secret, mask, strict=True)
    )
    return mask + cipher
