"""What Stripe's answers do to orders: reconciliation asks Stripe (the local sandbox) about the
pending orders no webhook settled; a Checkout Session Stripe does not make is refused."""

import logging

import pytest
from django.urls import reverse

from orders.models import Order, OrderEvent
from orders.tests.factories import OrderFactory, OrderItemFactory
from payments import stripe_client
from payments.exceptions import CheckoutUnavailable
from payments.services import checkout_session_ensure, payment_reconcile
from payments.tests.sandbox import api_calls, pending_with_session, sandbox_pay

pytestmark = pytest.mark.django_db


def test_a_session_stripe_does_not_make_is_refused_and_the_order_is_left_as_it_was(settings):
    order = OrderItemFactory().order
    settings.STRIPE_SANDBOX_URL = "http://127.0.0.1:1"  # nothing listens there
    stripe_client._client.cache_clear()
    try:
        with pytest.raises(CheckoutUnavailable, match="Our payment provider did not answer"):
            checkout_session_ensure(
                order_id=order.pk,
                success_url="http://testserver/ok/",
                cancel_url="http://testserver/no/",
            )
    finally:
        stripe_client._client.cache_clear()
    order.refresh_from_db()
    assert (order.status, order.stripe_session_id) == (Order.Status.PENDING, "")
    assert not order.events.exists()


def test_reconciliation_marks_paid_an_order_whose_webhook_never_came(client, placed, sandbox):
    client.get(reverse("payments:process", args=[placed.number]))
    placed.refresh_from_db()
    sandbox_pay(sandbox, placed.stripe_session_id)  # paid at Stripe; no webhook reaches us
    assert payment_reconcile(older_than_minutes=0) == 1
    placed.refresh_from_db()
    assert placed.status == Order.Status.PAID
    assert placed.payment_intent.startswith("pi_")
    assert payment_reconcile(older_than_minutes=0) == 0


def test_reconciliation_releases_the_stock_of_an_expired_session(client, placed, sandbox):
    client.get(reverse("payments:process", args=[placed.number]))
    placed.refresh_from_db()
    from payments import stripe_client

    stripe_client.client().v1.checkout.sessions.expire(placed.stripe_session_id)
    assert payment_reconcile(older_than_minutes=0) == 1
    placed.refresh_from_db()
    assert placed.status == Order.Status.EXPIRED
    assert {item.wine.stock for item in placed.items.all()} == {5}


def test_every_pending_order_is_looked_at_not_only_the_newest_200(sandbox):
    oldest = pending_with_session()
    sandbox_pay(sandbox, oldest.stripe_session_id)  # no webhook came
    waiting = pending_with_session()  # 200 newer orders, their customers still on the page
    OrderFactory.create_batch(200, stripe_session_id=waiting.stripe_session_id)

    assert payment_reconcile(older_than_minutes=0) == 1

    oldest.refresh_from_db()
    assert oldest.status == Order.Status.PAID
    assert Order.objects.filter(status=Order.Status.PENDING).count() == 201


def test_a_run_stops_at_its_time_limit_and_the_next_goes_on_from_there(sandbox, settings):
    settings.STRIPE_RECONCILE_SECONDS = 0  # every run looks at one order, then stops
    orders = [pending_with_session() for _ in range(3)]
    for order in orders:
        sandbox_pay(sandbox, order.stripe_session_id)

    changed = [payment_reconcile(older_than_minutes=0) for _ in range(4)]

    assert changed == [1, 1, 1, 0]
    paid_in_turn = [
        order.events.get(to_status=Order.Status.PAID).pk
        for order in sorted(orders, key=lambda o: o.pk)
    ]
    assert paid_in_turn == sorted(paid_in_turn)  # oldest first


def test_a_session_stripe_no_longer_knows_is_noted_once_and_the_others_are_reconciled(
    sandbox, caplog
):
    lost = OrderItemFactory(order__stripe_session_id="cs_test_lost_in_a_restart").order
    paid = pending_with_session()
    sandbox_pay(sandbox, paid.stripe_session_id)

    with caplog.at_level(logging.WARNING):
        first = payment_reconcile(older_than_minutes=0)
        second = payment_reconcile(older_than_minutes=0)

    assert (first, second) == (1, 0)
    paid.refresh_from_db()
    assert paid.status == Order.Status.PAID
    [note] = lost.events.filter(kind=OrderEvent.Kind.NOTE)
    assert "cs_test_lost_in_a_restart" in note.message
    lookups = api_calls(sandbox).count(("GET", "/v1/checkout/sessions/cs_test_lost_in_a_restart"))
    assert lookups == 1  # the second run did not ask again
    assert [r.exc_info for r in caplog.records if r.levelno >= logging.WARNING] == [None]
