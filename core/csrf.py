"""A request's CSRF token, as django.middleware.csrf.get_token makes it, from one read of the
system's randomness instead of one per character.

get_token draws each character of a new secret and of the mask it sends with it through
secrets.choice, a system call per character: 64 for a visitor without the cookie, most of the
time of a catalog page served from the cache. The token is the same: a secret of
CSRF_SECRET_LENGTH characters kept in the cookie, and in the page a fresh mask followed by the
secret ciphered with it, so that the page's bytes differ on every request (BREACH).
"""

import operator
import os

from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH

_CHARS = len(CSRF_ALLOWED_CHARS)
# Random bytes below this map evenly onto the allowed characters; the others are dropped.
_EVEN_BELOW = 256 - 256 % _CHARS
_BYTE_TO_CHAR = bytes(ord(CSRF_ALLOWED_CHARS[byte % _CHARS]) for byte in range(256))
_UNEVEN_BYTES = bytes(range(_EVEN_BELOW, 256))
# The cipher of each pair of a secret's character and its mask's, as _mask_cipher_secret adds
# them, looked up by the pair: the whole token is made without a loop in Python.
_CIPHER = {
    secret + mask: CSRF_ALLOWED_CHARS[(i + j) % _CHARS]
    for i, secret in enumerate(CSRF_ALLOWED_CHARS)
    for j, mask in enumerate(CSRF_ALLOWED_CHARS)
}


def random_chars(count: int) -> str:
    """Return `count` characters drawn uniformly from CSRF_ALLOWED_CHARS."""
    chars = b""
    while len(chars) < count:
        # A few bytes more than needed: about 3 % of them are dropped.
        chars += os.urandom(count + 8).translate(_BYTE_TO_CHAR, _UNEVEN_BYTES)
    return chars[:count].decode()


def csrf_token(request) -> str:
    """Return the CSRF token of a form on the page, with get_token's effects: the request's
    secret (a new one when it came without the cookie) is sent in the cookie with the answer."""
    drawn = random_chars(2 * CSRF_SECRET_LENGTH)
    mask = drawn[:CSRF_SECRET_LENGTH]
    # As get_token: a secret of the request is sent again to renew the cookie's expiry.
    secret = request.META.setdefault("CSRF_COOKIE", drawn[CSRF_SECRET_LENGTH:])
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    return mask + "".join(map(_CIPHER.__getitem__, map(operator.add, secret, mask)))
