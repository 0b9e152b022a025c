"""Stripe's webhook: only what Stripe signed for this shop is stored, each event once, and
applied once whatever the order and number of deliveries."""

import json
import time
from decimal import Decimal

import pytest
import stripe
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from backoffice.books import books_check
from core.money import money_format
from coupons.tests.factories import CouponFactory
from orders.links import order_link_path
from orders.models import Order, OrderEmail, Refund, RefundState
from orders.refunds import refund_request
from orders.tests.factories import OrderItemFactory, customer, place
from orders.tests.test_concurrency import run_together
from payments.models import StripeEvent
from payments.refunds import REFUND_EVENT_TYPES
from payments.sandbox.objects import payment_intent_object
from payments.services import PAID_TYPES, UNPAID_TYPES, payment_apply
from payments.tests.factories import (
    charge_object,
    checkout_session,
    deliver,
    dispute_object,
    event,
    out_of_order_deliveries,
    refund_object,
    signed,
    webhook_post,
)
from payments.tests.fuzz import JSON, examples, written
from payments.tests.sandbox import sandbox_dashboard_refund, sandbox_get, sandbox_payment_for
from shop.models import Wine
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db

STOCK = 10  # of every wine here, the order fixture's too

URL = reverse("payments:webhook")


def test_completed_session_marks_the_order_paid_and_sends_the_payment_email(
    client, order, settings
):
    settings.STAFF_ALERT_EMAILS = ["cellar@example.com"]
    session = checkout_session(order)
    response = deliver(client, event("checkout.session.completed", session))
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.payment_intent == session["payment_intent"]
    assert order.paid_at is not None
    paid = order.events.get(to_status=Order.Status.PAID).message
    assert paid == f"Paid €25.80 (Stripe {session['payment_intent']})."
    assert [m.subject for m in mail.outbox] == [f"Order {order.number} confirmed and paid"]
    stored = StripeEvent.objects.get()
    assert (stored.outcome, stored.order) == (StripeEvent.Outcome.APPLIED, order)


def test_the_same_event_delivered_five_times_changes_the_order_once(client, order):
    paid = event("checkout.session.completed", checkout_session(order))
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
    client, order, changes, settings
):
    settings.STAFF_ALERT_EMAILS = ["cellar@example.com"]
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


def paid_at_the_sandbox(client, order, server) -> dict:
    """Pay the order by its session's event and record the payment at the sandbox; return the
    session."""
    session = checkout_session(order)
    deliver(client, event("checkout.session.completed", session))
    order.refresh_from_db()
    sandbox_payment_for(server, order)
    return session


def charge_refunded(server, order) -> dict:
    """Return the last charge.refunded the sandbox made about the order's payment."""
    made = [
        entry["event"]
        for entry in sandbox_get(server, "/_sandbox/events")
        if entry["event"]["type"] == "charge.refunded"
        and entry["event"]["data"]["object"]["payment_intent"] == order.payment_intent
    ]
    return made[-1]


def test_a_partial_refund_made_in_stripe_never_refunds_the_whole_order(
    client, order, sandbox, settings
):
    settings.STAFF_ALERT_EMAILS = ["cellar@example.com"]
    paid_at_the_sandbox(client, order, sandbox)
    sandbox_dashboard_refund(sandbox, payment_intent=order.payment_intent, amount_minor=500)
    mail.outbox.clear()

    # Only charge.refunded arrives (the refund's own events were lost): it asks Stripe.
    response = deliver(client, charge_refunded(sandbox, order))

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID  # still to ship, still in the sales
    assert (order.refund_state, order.refunded_amount) == (RefundState.PARTIAL, Decimal("5.00"))
    assert order.payment_flagged
    assert "was made in Stripe's dashboard" in order.payment_flag_reason
    # Staff are alerted; the customer is told of the refund, with its credit note.
    alerts = [m for m in mail.outbox if m.to == ["cellar@example.com"]]
    notices = [m for m in mail.outbox if m.subject == f"Refund for order {order.number}"]
    assert (len(alerts), len(notices), len(mail.outbox)) == (1, 1, 2)
    assert notices[0].attachments[0][0].startswith("credit-note-CN-")
    stored = StripeEvent.objects.get(type="charge.refunded")
    assert stored.outcome == StripeEvent.Outcome.FLAGGED

    # The rest refunded later: the money is all given back, the order refunded in full.
    sandbox_dashboard_refund(sandbox, payment_intent=order.payment_intent)
    deliver(client, charge_refunded(sandbox, order))
    order.refresh_from_db()
    assert (order.refund_state, order.refunded_amount) == (RefundState.FULL, order.total)
    assert Refund.objects.filter(order=order, kind=Refund.Kind.EXTERNAL).count() == 2


def test_a_charge_refunded_whose_refunds_stripe_does_not_list_leaves_the_order_as_it_was(
    client, order, sandbox
):
    session = checkout_session(order)
    deliver(client, event("checkout.session.completed", session))
    order.refresh_from_db()
    charge = charge_object(order, amount_refunded=500)  # a payment the sandbox never saw

    assert deliver(client, event("charge.refunded", charge)).status_code == 200

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.refunded_amount == 0
    assert StripeEvent.objects.get(type="charge.refunded").outcome == StripeEvent.Outcome.NO_CHANGE


@pytest.mark.parametrize("status", ["succeeded", "failed", "canceled", "pending"])
def test_a_refund_event_settles_our_refund_by_its_metadata_once(client, order, status):
    deliver(client, event("checkout.session.completed", checkout_session(order)))
    order.refresh_from_db()
    refund = refund_request(order_id=order.pk, amount=Decimal("5.00"), reason="", actor=None)
    made = refund_object(order, amount_minor=500, refund_id=refund.pk, status=status)

    updates = [event("refund.updated", made) for _ in range(2)]
    answers = [deliver(client, update).content for update in updates]

    refund.refresh_from_db()
    expected = {"succeeded": "succeeded", "pending": "pending"}.get(status, "failed")
    assert (refund.status, refund.stripe_refund_id) == (expected, made["id"])
    assert answers == [b"Received.", b"Received."]
    outcomes = [StripeEvent.objects.get(event_id=update["id"]).outcome for update in updates]
    assert outcomes == [StripeEvent.Outcome.APPLIED, StripeEvent.Outcome.NO_CHANGE]


def test_a_refund_event_naming_a_refund_of_another_order_is_flagged(client, order):
    deliver(client, event("checkout.session.completed", checkout_session(order)))
    order.refresh_from_db()
    other = OrderItemFactory().order
    Order.objects.filter(pk=other.pk).update(
        status=Order.Status.PAID, paid_at=order.paid_at, payment_intent="pi_other"
    )
    theirs = refund_request(order_id=other.pk, amount=Decimal("1.00"), reason="", actor=None)

    deliver(client, event("refund.created", refund_object(order, refund_id=theirs.pk)))

    order.refresh_from_db()
    theirs.refresh_from_db()
    assert theirs.status == Refund.Status.PENDING
    assert not Refund.objects.filter(order=order).exists()
    assert order.payment_flagged and f"names refund #{theirs.pk}" in order.payment_flag_reason


def test_a_dispute_flags_the_order_with_its_reason_and_amount(client, order):
    deliver(client, event("checkout.session.completed", checkout_session(order)))
    order.refresh_from_db()

    dispute = event("charge.dispute.created", dispute_object(order))
    deliver(client, dispute)

    assert StripeEvent.objects.get(event_id=dispute["id"]).outcome == StripeEvent.Outcome.FLAGGED
    order.refresh_from_db()
    assert order.payment_flagged
    assert f"(fraudulent, {money_format(order.total)}" in order.payment_flag_reason


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


SESSION_FIELDS = ["id", "client_reference_id", "metadata", "payment_status", "status"]
SESSION_FIELDS += ["amount_total", "currency", "payment_intent"]
TYPES = sorted(
    PAID_TYPES | UNPAID_TYPES | REFUND_EVENT_TYPES | {"charge.refunded", "customer.created"}
)


def junk_session(order_pk: int):
    """Checkout Sessions with any value in any field, some naming the order."""
    values = JSON | st.just(str(order_pk)) | st.just({"order_number": "WS-0000-0000"})
    values |= st.sampled_from(["paid", "unpaid", "eur", "EUR", "pi_1", "x" * 300])
    return st.dictionaries(st.sampled_from(SESSION_FIELDS), values, max_size=8)


def signature_headers(body: str):
    secret = settings.STRIPE_WEBHOOK_SECRET
    stale = int(time.time()) - 3600
    return st.one_of(
        st.none(),
        st.text(max_size=80),
        st.builds(lambda t, v: f"t={t},v1={v}", st.integers(), st.text("0123456789abcdef")),
        st.just(stripe.WebhookSignature.generate_signature_header(body, "whsec_other")),
        st.just(stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=stale)),
        st.just(stripe.WebhookSignature.generate_signature_header(body + " ", secret)),
    )


BODIES = st.one_of(
    st.binary(max_size=120).map(lambda raw: raw.decode("latin-1")),
    st.text(max_size=120),
    JSON.map(json.dumps),
)

CONTENT_TYPES = st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)


@examples
@given(data=st.data())
def test_webhook_refuses_what_stripe_did_not_sign_and_writes_nothing(client, order, data):
    real = json.dumps(event("checkout.session.completed", checkout_session(order)))
    body = data.draw(BODIES | st.just(real), label="body")
    header = data.draw(signature_headers(body), label="Stripe-Signature")
    headers = {} if header is None else {"HTTP_STRIPE_SIGNATURE": header}
    before = written()

    response = client.post(
        reverse("payments:webhook"), body, content_type=data.draw(CONTENT_TYPES), **headers
    )

    assert response.status_code == 400
    assert written() == before


@examples
@given(data=st.data())
def test_webhook_answers_any_signed_event_and_the_books_still_add_up(client, order, data):
    payload = data.draw(
        JSON
        | st.fixed_dictionaries(
            {
                "id": st.text(max_size=300),
                "type": st.sampled_from(TYPES) | st.text(max_size=120),
                "data": st.fixed_dictionaries({"object": junk_session(order.pk)}),
                # The tests' key is the sandbox's: its events say false; anything else is refused.
                "livemode": st.just(False) | JSON,
            },
        ),
        label="event",
    )
    body, headers = signed(payload)
    before = StripeEvent.objects.count()

    response = webhook_post(client, body, headers)

    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert StripeEvent.objects.count() == before
    initial = dict.fromkeys(Wine.objects.values_list("pk", flat=True), STOCK)
    checks = books_check(initial_stock=initial, emails_sent=False)
    assert [check.wrong for check in checks] == [[]] * len(checks)


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.permutations(range(10)))
def test_every_event_twice_in_any_order_pays_each_order_once(order):
    coupon = CouponFactory()
    wine = WineFactory(stock=STOCK)
    expected, deliveries = out_of_order_deliveries(wine_id=wine.pk, coupon_code=coupon.code)
    client = Client()

    for index in order:
        body, headers = signed(deliveries[index])
        response = webhook_post(client, body, headers)
        assert response.status_code == 200

    assert {pk: Order.objects.get(pk=pk).status for pk in expected} == expected
    for pk, status in expected.items():
        payment_emails = OrderEmail.objects.filter(order=pk, kind=OrderEmail.Kind.PAYMENT)
        assert payment_emails.count() == (status == Order.Status.PAID)
    assert not Order.objects.filter(pk__in=expected, payment_flagged=True).exists()
    coupon.refresh_from_db()
    assert coupon.uses == 1  # the retried order's; the lapsed one gave its use back
    initial = dict.fromkeys(Wine.objects.values_list("pk", flat=True), STOCK)
    checks = books_check(initial_stock=initial, emails_sent=False)
    assert [check.wrong for check in checks] == [[]] * len(checks)


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_concurrent_deliveries_of_one_event_pay_the_order_once(postgres_only):
    order = place(lines=[(WineFactory(stock=5).pk, 1)], customer=customer())
    body, headers = signed(event("checkout.session.completed", checkout_session(order)))
    url = reverse("payments:webhook")

    responses = run_together(
        5, lambda i: Client().post(url, body, content_type="application/json", **headers)
    )

    assert [r.status_code for r in responses] == [200] * 5, responses
    assert StripeEvent.objects.count() == 1
    assert order.events.filter(to_status=Order.Status.PAID).count() == 1
    assert OrderEmail.objects.filter(order=order, kind=OrderEmail.Kind.PAYMENT).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_different_events_for_one_order_racing_pay_it_once(postgres_only):
    order = place(lines=[(WineFactory(stock=5).pk, 1)], customer=customer())
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


def declined(order, **metadata) -> dict:
    intent = payment_intent_object(
        payment_intent="pi_declined",
        amount=2580,
        currency="eur",
        metadata={"order_id": str(order.pk), "order_number": order.number, **metadata},
        now=int(time.time()),
    )
    return event("payment_intent.payment_failed", intent)


def test_a_declined_card_is_recorded_once_on_the_timeline_and_shown_in_the_admin(
    client, order, admin_client
):
    failed = declined(order)
    responses = [deliver(client, failed) for _ in range(3)]

    assert [r.status_code for r in responses] == [200] * 3
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    messages = order.events.filter(message__startswith="Card declined")
    assert [e.message for e in messages] == [
        "Card declined: Your card was declined. (generic_decline)"
    ]
    assert StripeEvent.objects.get().outcome == StripeEvent.Outcome.APPLIED
    admin_page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert "Card declined: Your card was declined. (generic_decline)" in admin_page.content.decode()
    customer_page = Client().get(order_link_path(number=order.number)).content.decode()
    assert "A card payment was declined" in customer_page
    assert "generic_decline" not in customer_page


def test_a_declined_card_naming_another_orders_number_changes_nothing(client, order):
    response = deliver(client, declined(order, order_number="WS-0000-0000"))

    assert response.status_code == 200
    assert not order.events.filter(message__startswith="Card declined").exists()
    assert StripeEvent.objects.get().outcome == StripeEvent.Outcome.UNKNOWN_ORDER


def test_each_declined_card_is_a_line_of_its_own(client, order):
    for reason in ("Your card has insufficient funds.", "Your card was declined.\r\nBcc: x"):
        failed = declined(order)
        failed["data"]["object"]["last_payment_error"]["message"] = reason
        deliver(client, failed)

    assert list(
        order.events.filter(message__startswith="Card declined").values_list("message")
    ) == [
        ("Card declined: Your card has insufficient funds. (generic_decline)",),
        ("Card declined: Your card was declined. Bcc: x (generic_decline)",),
    ]


# Stored by its id: one INSERT that commits by itself in a request (inside a test's transaction,
# a savepoint and its release around it).
RECEIVE = 3
# The worker's part, in a savepoint and its release inside a test's transaction: the event
# claimed and read, the order read, then locked and marked paid, its paid event, the email it
# owes, and the event's outcome.
APPLY_PAID = 10
# The event's insert refused by its unique id in a savepoint rolled back and released, then the
# stored event looked up by its id (applied: nothing to queue again).
DUPLICATE = 5


def test_a_paid_delivery_its_application_and_its_duplicate_take_a_fixed_number_of_queries(
    client, order, django_assert_num_queries
):
    paid = event("checkout.session.completed", checkout_session(order))
    body, headers = signed(paid)
    with django_assert_num_queries(RECEIVE):
        assert client.post(URL, body, "application/json", **headers).content == b"Received."
    stored = StripeEvent.objects.get()
    assert stored.outcome == StripeEvent.Outcome.RECEIVED
    with django_assert_num_queries(APPLY_PAID):
        assert payment_apply(stripe_event_id=stored.pk) == stored
    with django_assert_num_queries(DUPLICATE):
        assert deliver(client, paid).content == b"Duplicate."
    assert order.events.filter(to_status=Order.Status.PAID).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_request_stores_its_event_with_one_insert_and_no_transaction_of_its_own(order):
    body, headers = signed(event("checkout.session.completed", checkout_session(order)))
    with CaptureQueriesContext(connection) as queries:
        assert Client().post(URL, body, "application/json", **headers).status_code == 200
    # The tests' worker runs eagerly, right after the commit: the event's INSERT comes first,
    # alone, then the worker's queries.
    first = queries.captured_queries[0]["sql"]
    assert first.startswith('INSERT INTO "payments_stripeevent"'), first
    assert "SAVEPOINT" not in queries.captured_queries[1]["sql"]
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
