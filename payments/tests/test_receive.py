"""An event is stored and answered in the request, then applied by a worker: once, whoever
applies it, and never lost when the broker is away."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backoffice.tests.workers import Worker, broker_away, wait_for
from orders.models import Order, OrderEmail
from orders.tests.factories import customer, place
from orders.tests.test_concurrency import run_together
from payments.models import StripeEvent
from payments.services import payment_apply
from payments.tasks import payment_apply_waiting
from payments.tests.factories import checkout_session, deliver, event, signed
from shop.tests.factories import WineFactory

URL = reverse("payments:webhook")


def post(client, payload):
    """Deliver without running what the answer queued: the worker has not come yet."""
    body, headers = signed(payload)
    return client.post(URL, body, "application/json", **headers)


@pytest.mark.django_db
def test_a_stored_event_waits_for_the_worker_and_is_applied_once(client, order):
    assert post(client, event("checkout.session.completed", checkout_session(order))).content == (
        b"Received."
    )
    stored = StripeEvent.objects.get()
    order.refresh_from_db()
    assert (stored.outcome, stored.applied, order.status) == (
        StripeEvent.Outcome.RECEIVED,
        None,
        Order.Status.PENDING,
    )

    assert payment_apply(stripe_event_id=stored.pk) == stored
    assert payment_apply(stripe_event_id=stored.pk) is None

    stored.refresh_from_db()
    order.refresh_from_db()
    assert (stored.outcome, stored.order, order.status) == (
        StripeEvent.Outcome.APPLIED,
        order,
        Order.Status.PAID,
    )
    assert stored.applied is not None
    assert order.events.filter(to_status=Order.Status.PAID).count() == 1


@pytest.mark.django_db
def test_a_redelivery_queues_an_event_again_only_while_it_waits(
    client, order, django_capture_on_commit_callbacks
):
    paid = event("checkout.session.completed", checkout_session(order))
    post(client, paid)

    with django_capture_on_commit_callbacks() as waiting:
        assert post(client, paid).content == b"Duplicate."
    payment_apply(stripe_event_id=StripeEvent.objects.get().pk)
    with django_capture_on_commit_callbacks() as applied:
        assert post(client, paid).content == b"Duplicate."

    assert (len(waiting), len(applied)) == (1, 0)
    assert StripeEvent.objects.count() == 1


@pytest.mark.django_db
def test_with_the_broker_away_the_event_is_kept_and_the_minutely_job_applies_it(
    client, order, caplog
):
    with broker_away():
        response = deliver(client, event("checkout.session.completed", checkout_session(order)))

    assert response.content == b"Received."
    stored = StripeEvent.objects.get()
    assert stored.outcome == StripeEvent.Outcome.RECEIVED
    assert "payment_apply" in caplog.text and "Apply received Stripe events" in caplog.text

    assert payment_apply_waiting.delay().get() == 0  # a minute is left to the event's own task
    StripeEvent.objects.update(received=timezone.now() - timedelta(minutes=2))
    assert payment_apply_waiting.delay().get() == 1
    assert payment_apply_waiting.delay().get() == 0

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert StripeEvent.objects.get().outcome == StripeEvent.Outcome.APPLIED


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_workers_racing_to_apply_one_event_apply_it_once(postgres_only):
    order = place(lines=[(WineFactory(stock=5).pk, 1)], customer=customer())
    with broker_away():  # its task is lost: the event waits, then four workers take it at once
        post(Client(), event("checkout.session.completed", checkout_session(order)))
    stored = StripeEvent.objects.get()
    assert stored.outcome == StripeEvent.Outcome.RECEIVED

    results = run_together(4, lambda i: payment_apply(stripe_event_id=stored.pk))

    assert sorted(result is None for result in results) == [False, True, True, True], results
    assert order.events.filter(to_status=Order.Status.PAID).count() == 1
    assert OrderEmail.objects.filter(order=order, kind=OrderEmail.Kind.PAYMENT).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_real_worker_applies_the_event_the_webhook_stored(real_broker, mail_dir):
    order = place(lines=[(WineFactory(stock=3).pk, 1)], customer=customer())
    worker = Worker(mail_dir)
    try:
        response = post(Client(), event("checkout.session.completed", checkout_session(order)))
        assert response.content == b"Received."
        wait_for(
            lambda: Order.objects.get(pk=order.pk).status == Order.Status.PAID,
            timeout=30,
            what="the worker to apply the event",
        )
    finally:
        worker.stop()
    assert StripeEvent.objects.get().outcome == StripeEvent.Outcome.APPLIED, worker.output()
