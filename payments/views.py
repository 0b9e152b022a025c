import logging

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from orders.links import order_link_path
from orders.models import Order
from orders.selectors import order_totals
from orders.views import order_actions, order_link_context, order_link_view
from payments import stripe_client
from payments.exceptions import CheckoutUnavailable
from payments.services import checkout_session_ensure

logger = logging.getLogger(__name__)

# The completed page reloads itself every REFRESH_SECONDS while the payment is being confirmed,
# at most REFRESH_TIMES times (two minutes): the webhook nearly always lands within seconds.
REFRESH_SECONDS = 3
REFRESH_TIMES = 40


@require_GET
@order_link_view
def payment_process(request, order, key):
    """Send the customer to Stripe's hosted Checkout page for their pending order.

    key is what opened the order (its signed link, or its number for the session that placed
    it); Stripe sends the customer back to pages opened by the same key.
    """
    if order.status != Order.Status.PENDING:
        return redirect(order_link_path(number=order.number))
    urls = {
        "success_url": request.build_absolute_uri(reverse("payments:completed", args=[key])),
        "cancel_url": request.build_absolute_uri(reverse("payments:canceled", args=[key])),
    }
    try:
        # Well within the web server's worker timeout, across every call and retry: a slow
        # Stripe must not hold the few workers that serve the whole shop.
        with stripe_client.time_budget(settings.STRIPE_REQUEST_BUDGET_SECONDS):
            url = checkout_session_ensure(order_id=order.pk, **urls)
    except CheckoutUnavailable:
        logger.exception("Could not open a Stripe Checkout Session for %s", order.number)
        # Said in the customer's language, whatever the payment provider answered.
        messages.error(
            request,
            _(
                "Our payment provider did not answer. Your order is saved: please try again in a "
                "moment."
            ),
        )
        context = {"order": order, "key": key, **order_link_context(order)}
        return render(request, "payments/payment_retry.html", context, status=503)
    if url is None:  # expired or canceled meanwhile
        return redirect(order_link_path(number=order.number))
    response = redirect(url)
    response.status_code = 303  # See Other: the browser follows with a GET
    return response


def _refreshes(request) -> int:
    """Return how many times the completed page reloaded itself already (?n=)."""
    n = request.GET.get("n", "")
    return min(int(n), REFRESH_TIMES) if n.isascii() and n.isdigit() and len(n) < 4 else 0


@never_cache
@require_GET
@order_link_view
def payment_completed(request, order, key):
    """Thank the customer; the webhook (or reconciliation), never this page, marks orders paid.

    While the payment is being confirmed the page reloads itself, a bounded number of times.
    """
    n = _refreshes(request)
    confirming = order.status == Order.Status.PENDING
    context = {
        "order": order,
        "items": list(order.items.all()),
        "totals": order_totals(order),
        "confirming": confirming,
        "refresh_url": f"?n={n + 1}" if confirming and n < REFRESH_TIMES else "",
        "refresh_seconds": REFRESH_SECONDS,
        **order_link_context(order),
    }
    return render(request, "payments/payment_completed.html", context)


@never_cache
@require_GET
@order_link_view
def payment_canceled(request, order, key):
    context = {"order": order, **order_actions(order, key), **order_link_context(order)}
    return render(request, "payments/payment_canceled.html", context)
