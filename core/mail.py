"""Addresses the shop writes into emails, and the text that may go into them.

A name is never pasted next to an address: a comma in it ("Smith, Jr.") splits the header into
two recipients no server accepts, and an address written in it (`attacker@evil.test (`) becomes
the recipient. `formataddr` quotes the name so that the address stays the only one.
"""

import unicodedata
from email.utils import formataddr

from django.conf import settings
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


def shop_url(path: str) -> str:
    """Return the absolute URL of a path of the shop, for emails: they are read far from any
    request."""
    return settings.SHOP_URL.rstrip("/") + path


def email_context() -> dict:
    """Return what every email's layout shows: the shop's name, link, contact and legal notice."""
    return {
        "shop_name": settings.SHOP_NAME,
        "shop_url": shop_url("/"),
        # Put before a path ({% url %}) for an absolute link.
        "shop_origin": shop_url(""),
        "shop_address": settings.SHOP_ADDRESS,
        "shop_contact_email": settings.SHOP_CONTACT_EMAIL,
        "shop_legal_notice": settings.SHOP_LEGAL_NOTICE,
    }


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
