"""Stripe delivering every event twice and in any order: each order ends in the right state,
paid once, and the books still add up."""

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from orders.books import books_check
from orders.models import Order, OrderEmail
from orders.services import place_order
from orders.tests.factories import customer
from payments.tests.factories import checkout_session, event, signed
from shop.models import Wine
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db

STOCK = 10


def deliveries_for_three_orders() -> tuple[dict, list[dict]]:
    """Place three orders; return their expected final states and each of their events twice.

    Retried: the customer let a first session lapse and paid a second one. Delayed: the payment
    completed later (a bank transfer). Lapsed: the only session expired unpaid.
    """
    wine = WineFactory(stock=STOCK)
    retried, delayed, lapsed = (
        place_order(lines=[(wine.pk, 1)], customer=customer()) for _ in range(3)
    )
    first, second = checkout_session(retried, status="expired"), checkout_session(retried)
    Order.objects.filter(pk=retried.pk).update(stripe_session_id=second["id"])
    waiting = checkout_session(delayed, payment_status="unpaid")
    events = [
        event("checkout.session.expired", first),
        event("checkout.session.completed", second),
        event("checkout.session.completed", waiting),
        event("checkout.session.async_payment_succeeded", {**waiting, "payment_status": "paid"}),
        event("checkout.session.expired", checkout_session(lapsed, status="expired")),
    ]
    expected = {
        retried.pk: Order.Status.PAID,
        delayed.pk: Order.Status.PAID,
        lapsed.pk: Order.Status.EXPIRED,
    }
    return expected, events + events


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.permutations(range(10)))
def test_every_event_twice_in_any_order_pays_each_order_once(order):
    expected, deliveries = deliveries_for_three_orders()
    initial = dict.fromkeys(Wine.objects.values_list("pk", flat=True), STOCK)
    client = Client()

    for index in order:
        body, headers = signed(deliveries[index])
        response = client.post(
            reverse("payments:webhook"), body, content_type="application/json", **headers
        )
        assert response.status_code == 200

    assert {pk: Order.objects.get(pk=pk).status for pk in expected} == expected
    for pk, status in expected.items():
        payment_emails = OrderEmail.objects.filter(order=pk, kind=OrderEmail.Kind.PAYMENT)
        assert payment_emails.count() == (status == Order.Status.PAID)
    assert not Order.objects.filter(pk__in=expected, payment_flagged=True).exists()
    checks = books_check(initial_stock=initial, emails_sent=False)
    assert [check.wrong for check in checks] == [[]] * len(checks)
