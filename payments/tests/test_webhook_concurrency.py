"""Stripe delivering the same event several times at once, on PostgreSQL."""

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import Order, OrderEmail
from orders.services import order_place
from orders.tests.factories import customer
from orders.tests.test_concurrency import run_together
from payments.models import StripeEvent
from payments.tests.factories import checkout_session, event, signed
from shop.tests.factories import WineFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_concurrent_deliveries_of_one_event_pay_the_order_once(postgres_only):
    order = order_place(lines=[(WineFactory(stock=5).pk, 1)], customer=customer())
    body, headers = signed(event("checkout.session.completed", checkout_session(order)))
    url = reverse("payments:webhook")

    responses = run_together(
        5, lambda i: Client().post(url, body, content_type="application/json", **headers)
    )

    assert [r.status_code for r in responses] == [200] * 5, responses
    assert StripeEvent.objects.count() == 1
    assert order.events.filter(to_status=Order.Status.PAID).count() == 1
    assert OrderEmail.objects.filter(order=order, kind=OrderEmail.Kind.PAYMENT).count() == 1


def test_different_events_for_one_order_racing_pay_it_once(postgres_only):
    order = order_place(lines=[(WineFactory(stock=5).pk, 1)], customer=customer())
    session = checkout_session(order)
    kinds = ["checkout.session.completed", "checkout.session.async_payment_succeeded"] * 2
    # Four events about one payment (one payment intent), racing.
    bodies = [signed(event(kind, session)) for kind in kinds]
    url = reverse("payments:webhook")

    responses = run_together(
        4,
        lambda i: Client().post(url, bodies[i][0], content_type="application/json", **bodies[i][1]),
    )

    assert [r.status_code for r in responses] == [200] * 4, responses
    assert StripeEvent.objects.count() == 4
    assert order.events.filter(to_status=Order.Status.PAID).count() == 1
    assert OrderEmail.objects.filter(order=order, kind=OrderEmail.Kind.PAYMENT).count() == 1
