"""Addresses the shop writes into emails, and the text that may go into them.

A name is never pasted next to an address: a comma in it ("Smith, Jr.") splits the header into
two recipients no server accepts, and an address written in it (`attacker@evil.test (`) becomes
the recipient. `formataddr` quotes the name so that the address stays the only one.
"""

import unicodedata
from email.utils import formataddr

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.encoding import punycode

# C0 and C1 controls (CR, LF, NUL, tab, ESC…) and the Unicode line and paragraph separators:
# nothing a name or an address needs, and what splits a mail header or a CSV row.
CONTROL_CATEGORIES = {"Cc", "Zl", "Zp"}


def mailbox(name: str, email: str) -> str:
    """Return `"name" <email>` for a To header, the name quoted or encoded as needed.

    The domain is written in its ASCII form, which is what formataddr accepts (the checkout
    takes internationalised domains).
    """
    local, _, domain = email.rpartition("@")
    return formataddr((name.strip(), f"{local}@{punycode(domain)}"))


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(char) in CONTROL_CATEGORIES for char in value)


@deconstructible(path="core.mail.SingleLineValidator")
class SingleLineValidator:
    """Refuse text with control characters or line breaks: one line of printable text."""

    message = "Enter text without line breaks or control characters."
    code = "control_characters"

    def __call__(self, value) -> None:
        if isinstance(value, str) and has_control_characters(value):
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other):
        return isinstance(other, SingleLineValidator)


validate_single_line = SingleLineValidator()
