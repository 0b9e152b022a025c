"""A fresh link to an order, emailed on request to the order's own address.

Whoever asks gets the same answer whether an order matched or not, so the form tells nobody
which orders exist or whose they are; the link goes only to the address the order was placed
with. Requests are counted per client address group and per order number (fail closed: the
form sends emails), so it can be used neither to guess numbers nor to flood a mailbox.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from core.exceptions import TooManyRequests
from core.mail import mailbox
from core.queue import publish
from core.ratelimit import Limit, Scope, count_attempt, refusal
from orders.links import order_link_url
from orders.models import Order

REQUESTS_PER_ADDRESS = Scope("order-link-address", fail_closed=True)
REQUESTS_PER_ORDER = Scope("order-link-order", fail_closed=True)
ADDRESS_LIMIT = 5
ORDER_LIMIT = 3
WINDOW_SECONDS = 15 * 60
TEMPLATE = "orders/emails/order_link"


def order_link_request(*, email: str, number: str, client_group: str) -> None:
    """Count the request and, when an order of that number was placed with that email, email it
    a fresh link once the transaction commits; raise TooManyRequests past the limits."""
    number = number.strip().upper()
    limits = [
        Limit(REQUESTS_PER_ADDRESS, client_group, ADDRESS_LIMIT),
        Limit(REQUESTS_PER_ORDER, number, ORDER_LIMIT),
    ]
    refused = refusal(limits)
    if refused:
        raise TooManyRequests(
            _("Too many links were asked for from here or for this order lately."),
            retry_after=refused.seconds,
        )
    count_attempt(limits, window_seconds=WINDOW_SECONDS)
    order_id = (
        Order.objects.filter(number=number, email__iexact=email.strip())
        .values_list("pk", flat=True)
        .first()
    )
    if order_id is not None:
        transaction.on_commit(lambda: _publish(order_id))


def _publish(order_id: int) -> None:
    from orders import tasks

    publish(tasks.order_link_send, order_id, meanwhile="the customer may ask again")


def order_link_send(*, order_id: int) -> None:
    """Email the order's customer a fresh link to their order, in the language they ordered in
    (a worker's active language is whatever it last was)."""
    order = Order.objects.get(pk=order_id)
    context = {
        "order": order,
        "order_url": order_link_url(number=order.number),
        "max_age_days": settings.ORDER_LINK_MAX_AGE_DAYS,
        "shop_name": settings.SHOP_NAME,
    }
    with translation.override(order.language or settings.LANGUAGE_CODE):
        message = EmailMultiAlternatives(
            subject=_("The link to your order %(number)s") % {"number": order.number},
            body=render_to_string(f"{TEMPLATE}.txt", context),
            to=[mailbox(order.customer_name, order.email)],
        )
        message.attach_alternative(render_to_string(f"{TEMPLATE}.html", context), "text/html")
    message.send()
