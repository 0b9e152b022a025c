"""The customer's link to their order: signed, so it can't be guessed or altered, and dated.

No account is needed: whoever holds the link sees the order, pays it, changes or cancels it
while it is pending. A link expires (ORDER_LINK_MAX_AGE_DAYS); the order page then offers to
email a fresh one to the order's address.
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

from orders.exceptions import OrderLinkExpired, OrderLinkInvalid

SALT = "orders.link"


def order_link_token(*, number: str) -> str:
    """Return the signed, dated token of the order's link."""
    return signing.TimestampSigner(salt=SALT).sign(number)


def order_link_number(*, token: str) -> str:
    """Return the order number the token was made for; raise if it was altered or is too old."""
    signer = signing.TimestampSigner(salt=SALT)
    try:
        return signer.unsign(token, max_age=timedelta(days=settings.ORDER_LINK_MAX_AGE_DAYS))
    except signing.SignatureExpired:
        raise OrderLinkExpired("This link to your order has expired.") from None
    except signing.BadSignature:
        raise OrderLinkInvalid("This link to an order is not valid.") from None


def order_link_path(*, number: str) -> str:
    return reverse("orders:order_detail", args=[order_link_token(number=number)])


def order_link_url(*, number: str) -> str:
    """Return the absolute link for emails: they are read far from any request."""
    return settings.SHOP_URL.rstrip("/") + order_link_path(number=number)
