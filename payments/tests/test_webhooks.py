import json
import time

import pytest
from django.core import mail
from django.urls import reverse

from orders.models import Order, OrderEmail
from orders.services import order_place
from orders.tests.factories import customer
from payments.models import StripeEvent
from payments.tests.factories import checkout_session, event, signed
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db

URL = reverse("payments:webhook")


@pytest.fixture
def order():
    return order_place(lines=[(WineFactory(stock=10, price="12.90").pk, 2)], customer=customer())


def deliver(client, payload, **signing):
    body, headers = signed(payload, **signing)
    return client.post(URL, body, content_type="application/json", **headers)


def test_completed_session_marks_the_order_paid_and_sends_the_payment_email(
    client, order, django_capture_on_commit_callbacks, settings
):
    settings.STAFF_ALERT_EMAILS = ["cellar@example.com"]
    session = checkout_session(order)
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, event("checkout.session.completed", session))
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.payment_intent == session["payment_intent"]
    assert order.paid_at is not None
    assert [m.subject for m in mail.outbox] == [f"Order {order.number} confirmed and paid"]
    stored = StripeEvent.objects.get()
    assert (stored.outcome, stored.order) == (StripeEvent.Outcome.APPLIED, order)


def test_the_same_event_delivered_five_times_changes_the_order_once(
    client, order, django_capture_on_commit_callbacks
):
    paid = event("checkout.session.completed", checkout_session(order))
    with django_capture_on_commit_callbacks(execute=True):
        responses = [deliver(client, paid) for _ in range(5)]
    assert [r.status_code for r in responses] == [200] * 5
    assert StripeEvent.objects.count() == 1
    assert order.events.filter(to_status=Order.Status.PAID).count() == 1
    assert OrderEmail.objects.filter(order=order, kind=OrderEmail.Kind.PAYMENT).count() == 1
    assert len([m for m in mail.outbox if m.subject.endswith("confirmed and paid")]) == 1


def test_a_second_event_about_the_same_payment_changes_nothing(client, order):
    session = checkout_session(order)
    deliver(client, event("checkout.session.completed", session))
    deliver(client, event("checkout.session.async_payment_succeeded", session))
    assert order.events.filter(to_status=Order.Status.PAID).count() == 1
    outcomes = list(StripeEvent.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == [StripeEvent.Outcome.APPLIED, StripeEvent.Outcome.NO_CHANGE]
    order.refresh_from_db()
    assert not order.payment_flagged


def test_a_second_payment_for_a_paid_order_is_flagged(client, order):
    deliver(client, event("checkout.session.completed", checkout_session(order)))
    deliver(client, event("checkout.session.completed", checkout_session(order)))
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.payment_flagged
    assert "second payment" in order.payment_flag_reason
    assert order.events.filter(to_status=Order.Status.PAID).count() == 1


def test_expired_after_completed_leaves_the_order_paid(client, order):
    session = checkout_session(order)
    deliver(client, event("checkout.session.completed", session))
    deliver(client, event("checkout.session.expired", {**session, "status": "expired"}))
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    wine = order.items.get().wine
    assert wine.stock == 8


@pytest.mark.parametrize(
    "event_type", ["checkout.session.expired", "checkout.session.async_payment_failed"]
)
def test_an_unpaid_session_releases_the_stock(client, order, event_type):
    session = checkout_session(order, payment_status="unpaid", status="expired")
    assert deliver(client, event(event_type, session)).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.EXPIRED
    assert order.items.get().wine.stock == 10


def test_completed_but_not_yet_paid_waits(client, order):
    session = checkout_session(order, payment_status="unpaid")
    deliver(client, event("checkout.session.completed", session))
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


@pytest.mark.parametrize(
    "changes",
    [{"amount_total": 2579}, {"amount_total": 0}, {"currency": "usd"}],
    ids=["one-cent-short", "nothing", "other-currency"],
)
def test_a_payment_that_does_not_match_the_order_is_flagged_not_paid(
    client, order, changes, settings, django_capture_on_commit_callbacks
):
    settings.STAFF_ALERT_EMAILS = ["cellar@example.com"]
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event("checkout.session.completed", checkout_session(order, **changes)))
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert order.payment_flagged
    assert StripeEvent.objects.get().outcome == StripeEvent.Outcome.FLAGGED
    alerts = [m for m in mail.outbox if "needs attention" in m.subject]
    assert [m.to for m in alerts] == [["cellar@example.com"]]


def test_a_payment_for_an_expired_order_is_flagged(client, order):
    session = checkout_session(order)
    deliver(client, event("checkout.session.expired", {**session, "payment_status": "unpaid"}))
    deliver(client, event("checkout.session.completed", session))
    order.refresh_from_db()
    assert order.status == Order.Status.EXPIRED
    assert order.payment_flagged


def test_refund_marks_a_paid_order_refunded(client, order):
    session = checkout_session(order)
    deliver(client, event("checkout.session.completed", session))
    charge = {"id": "ch_1", "object": "charge", "payment_intent": session["payment_intent"]}
    deliver(client, event("charge.refunded", charge))
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED


def test_events_about_unknown_orders_are_stored_and_answered(client, order):
    session = checkout_session(order, client_reference_id="999999")
    response = deliver(client, event("checkout.session.completed", session))
    assert response.status_code == 200
    assert StripeEvent.objects.get().outcome == StripeEvent.Outcome.UNKNOWN_ORDER
    mismatched = checkout_session(order, metadata={"order_number": "WS-XXXX-XXXX"})
    deliver(client, event("checkout.session.completed", mismatched))
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_unhandled_event_types_are_stored_and_ignored(client, order):
    assert deliver(client, event("customer.created", {"id": "cus_1"})).status_code == 200
    assert StripeEvent.objects.get().outcome == StripeEvent.Outcome.IGNORED


def unchanged(order):
    order.refresh_from_db()
    return order.status == Order.Status.PENDING and not StripeEvent.objects.exists()


def test_missing_signature_is_refused(client, order):
    body = json.dumps(event("checkout.session.completed", checkout_session(order)))
    assert client.post(URL, body, content_type="application/json").status_code == 400
    assert unchanged(order)


def test_tampered_body_is_refused(client, order):
    paid = event("checkout.session.completed", checkout_session(order))
    body, headers = signed(paid)
    tampered = body.replace('"paid"', '"unpaid"')
    assert client.post(URL, tampered, content_type="application/json", **headers).status_code == 400
    assert unchanged(order)


def test_stale_and_wrongly_signed_events_are_refused(client, order):
    paid = event("checkout.session.completed", checkout_session(order))
    assert deliver(client, paid, timestamp=int(time.time()) - 3600).status_code == 400
    assert deliver(client, paid, secret="whsec_someone_else").status_code == 400
    assert unchanged(order)


@pytest.mark.parametrize(
    "body", ["not json", "[]", '{"id": "evt_1"}', '{"id": "evt_1", "type": "x", "data": 3}']
)
def test_signed_bodies_that_are_not_events_are_refused(client, order, body):
    assert deliver(client, body).status_code == 400
    assert unchanged(order)


def test_only_post_is_accepted(client):
    assert client.get(URL).status_code == 405


@pytest.mark.parametrize(
    "key, livemode",
    [("", True), ("sk_test_51Example", True), ("sk_live_51Example", False)],
    ids=["sandbox-live-event", "test-key-live-event", "live-key-test-event"],
)
def test_an_event_of_the_other_mode_than_the_key_is_refused_and_changes_nothing(
    client, order, settings, key, livemode
):
    settings.STRIPE_SECRET_KEY = key
    session = checkout_session(order, livemode=livemode)

    response = deliver(client, event("checkout.session.completed", session, livemode=livemode))

    assert response.status_code == 400
    assert b"-mode event refused: STRIPE_SECRET_KEY is a" in response.content
    assert not StripeEvent.objects.exists()
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not OrderEmail.objects.filter(kind=OrderEmail.Kind.PAYMENT).exists()


def test_a_live_event_pays_with_a_live_key(client, order, settings):
    settings.STRIPE_SECRET_KEY = "sk_live_51Example"
    session = checkout_session(order, livemode=True)
    response = deliver(client, event("checkout.session.completed", session, livemode=True))
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
