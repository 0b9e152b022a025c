import logging

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from orders.models import Order
from orders.views import placed_order
from payments import stripe_client
from payments.exceptions import CheckoutUnavailable
from payments.services import checkout_session_ensure

logger = logging.getLogger(__name__)


@require_GET
def payment_process(request, number):
    """Send the customer to Stripe's hosted Checkout page for their pending order."""
    order = placed_order(request, number)
    if order.status != Order.Status.PENDING:
        return redirect("orders:order_placed", number=order.number)
    urls = {
        "success_url": request.build_absolute_uri(
            reverse("payments:completed", args=[order.number])
        ),
        "cancel_url": request.build_absolute_uri(reverse("payments:canceled", args=[order.number])),
    }
    try:
        # Well within the web server's worker timeout, across every call and retry: a slow
        # Stripe must not hold the few workers that serve the whole shop.
        with stripe_client.time_budget(settings.STRIPE_REQUEST_BUDGET_SECONDS):
            url = checkout_session_ensure(order_id=order.pk, **urls)
    except CheckoutUnavailable as error:
        logger.exception("Could not open a Stripe Checkout Session for %s", order.number)
        messages.error(request, str(error))
        return render(request, "payments/payment_retry.html", {"order": order}, status=503)
    if url is None:  # expired or canceled meanwhile
        return redirect("orders:order_placed", number=order.number)
    response = redirect(url)
    response.status_code = 303  # See Other: the browser follows with a GET
    return response


@require_GET
def payment_completed(request, number):
    """Thank the customer; the webhook (or reconciliation), never this page, marks orders paid."""
    order = placed_order(request, number)
    return render(request, "payments/payment_completed.html", {"order": order})


@require_GET
def payment_canceled(request, number):
    order = placed_order(request, number)
    return render(request, "payments/payment_canceled.html", {"order": order})
