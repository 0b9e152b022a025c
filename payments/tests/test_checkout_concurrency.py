"""A customer's double click on the payment button, as two concurrent requests on PostgreSQL."""

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import Order, OrderEvent
from orders.tests.factories import CHECKOUT_FIELDS
from orders.tests.test_concurrency import run_together
from payments.tests.sandbox import running_sandbox
from payments.tests.test_checkout import api_calls
from shop.tests.factories import WineFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_a_double_click_opens_one_checkout_session(postgres_only, settings):
    wine = WineFactory(price="12.90", stock=5)
    first = Client()
    first.post(reverse("shop:cart_add", args=[wine.pk]), {"quantity": 2})
    first.post(reverse("orders:checkout"), {**CHECKOUT_FIELDS, "expected_total": "25.80"})
    order = Order.objects.get()
    second = Client()
    second.cookies = first.cookies  # the same browser
    process = reverse("payments:process", args=[order.number])

    # Stripe answers slowly enough that both clicks are in flight at once.
    with running_sandbox(settings, latency=0.3) as server:
        responses = run_together(2, lambda i: (first, second)[i].get(process))
        created = api_calls(server).count(("POST", "/v1/checkout/sessions"))

    assert [r.status_code for r in responses] == [303, 303], responses
    assert created == 1
    order.refresh_from_db()
    assert {r["Location"] for r in responses} == {
        f"{server.base_url}/pay/{order.stripe_session_id}"
    }
    assert order.events.filter(kind=OrderEvent.Kind.PAYMENT).count() == 1
