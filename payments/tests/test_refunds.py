"""Refunds at Stripe, against the local sandbox: a staff refund reaches Stripe once, and what
Stripe answers and announces settles it once, whatever the order and number of its words."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from orders.models import Order, OrderEvent, Refund, RefundState
from orders.refunds import RefundLineRequest, refund_request
from orders.tests.test_concurrency import run_together
from payments import stripe_client
from payments.models import StripeEvent
from payments.refunds import refund_object_apply, refund_submit
from payments.sandbox.objects import DISPUTED, REFUND_FAILS, REFUND_PENDING, SUCCEEDS
from payments.services import payment_reconcile
from payments.tests.factories import deliver as deliver_one
from payments.tests.sandbox import (
    api_calls,
    paid_order,
    running_sandbox,
    sandbox_dashboard_refund,
    sandbox_get,
    sandbox_settle_refunds,
)
from shop.models import Wine

pytestmark = pytest.mark.django_db

URL = reverse("payments:webhook")


def one_bottle(order: Order, *, restock: bool = True) -> list[RefundLineRequest]:
    item = order.items.get(quantity=3)
    return [RefundLineRequest(item_id=item.pk, quantity=1, restock=restock)]


def stock(order: Order) -> int:
    return Wine.objects.get(pk=order.items.get(quantity=3).wine_id).stock


def events_of(server, order: Order) -> list[dict]:
    """Return the events the sandbox made about the order's payment, in the order made."""
    return [
        entry["event"]
        for entry in sandbox_get(server, "/_sandbox/events")
        if entry["event"]["data"]["object"].get("payment_intent") == order.payment_intent
    ]


def deliver(events: list[dict]) -> list[str]:
    """Deliver the events in turn; return what each did: its stored outcome, or "Duplicate."."""
    client = Client()
    answers = []
    for event in events:
        response = deliver_one(client, event)
        assert response.status_code == 200
        if response.content == b"Duplicate.":
            answers.append("Duplicate.")
        else:
            answers.append(StripeEvent.objects.get(event_id=event["id"]).get_outcome_display())
    return answers


def succeeded_notes(refund: Refund) -> int:
    return (
        OrderEvent.objects.filter(
            order=refund.order_id, message__startswith=f"Refund #{refund.pk} of "
        )
        .filter(message__contains=" succeeded")
        .count()
    )


def posted_refunds(server) -> list[dict]:
    return [
        r
        for r in sandbox_get(server, "/_sandbox/requests")
        if (r["method"], r["path"])
        == (
            "POST",
            "/v1/refunds",
        )
    ]


def test_a_staff_refund_of_one_bottle_restocked_reaches_stripe_once_and_succeeds_once(
    sandbox, django_capture_on_commit_callbacks
):
    order = paid_order(sandbox)
    before = stock(order)

    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_request(
            order_id=order.pk, lines=one_bottle(order), reason="corked", actor=None
        )
    deliver(events_of(sandbox, order) * 2)  # Stripe's events after its answer, twice

    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert refund.stripe_refund_id.startswith("re_")
    assert refund.amount == Decimal("12.00")
    assert (order.refund_state, order.refunded_amount) == (RefundState.PARTIAL, Decimal("12.00"))
    assert order.status == Order.Status.PAID
    assert stock(order) == before + 1
    assert succeeded_notes(refund) == 1
    assert not order.payment_flagged
    [posted] = posted_refunds(sandbox)
    assert posted["headers"]["Idempotency-Key"] == stripe_client.refund_idempotency_key(refund.pk)
    made = stripe_client.refund_retrieve(stripe_refund_id=refund.stripe_refund_id)
    assert (made["amount"], made["metadata"]["refund_id"]) == (1200, str(refund.pk))
    assert refund_submit(refund_id=refund.pk) is None  # settled: never sent again


def test_a_refund_that_fails_before_its_answer_is_applied_puts_nothing_back(sandbox):
    order = paid_order(sandbox, card=REFUND_FAILS)
    before = stock(order)
    refund = refund_request(order_id=order.pk, lines=one_bottle(order), reason="", actor=None)
    answer = stripe_client.refund_create(  # Stripe answers "succeeded"; the answer is held
        payment_intent=order.payment_intent,
        amount_minor=1200,
        currency=order.currency,
        refund_id=refund.pk,
        order_number=order.number,
    )
    assert answer["status"] == "succeeded"
    sandbox_settle_refunds(sandbox)

    # The newest first: refund.failed before the older events that still say "succeeded".
    deliver(events_of(sandbox, order)[::-1])
    result = refund_object_apply(obj=answer)  # the answer, late: Stripe says it failed since

    refund.refresh_from_db()
    order.refresh_from_db()
    assert result.outcome == StripeEvent.Outcome.NO_CHANGE
    assert refund.status == Refund.Status.FAILED
    assert "expired_or_canceled_card" in refund.failure_reason
    assert stock(order) == before
    assert (order.refunded_amount, order.refundable_amount) == (Decimal(0), order.total)
    assert order.items.get(quantity=3).refunded_quantity == 0
    assert not order.payment_flagged


def test_a_refund_stripe_fails_after_it_succeeded_is_flagged_for_staff(
    sandbox, django_capture_on_commit_callbacks
):
    order = paid_order(sandbox, card=REFUND_FAILS)
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_request(order_id=order.pk, lines=one_bottle(order), reason="", actor=None)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED  # Stripe's first word for this card
    sandbox_settle_refunds(sandbox)

    deliver(events_of(sandbox, order) * 2)

    order.refresh_from_db()
    assert order.payment_flagged
    assert f"refund #{refund.pk} failed after it had succeeded" in order.payment_flag_reason


def test_a_refund_stripe_refuses_fails_with_its_words_and_flags_the_order(
    sandbox, django_capture_on_commit_callbacks
):
    order = paid_order(sandbox)
    sandbox_dashboard_refund(sandbox, payment_intent=order.payment_intent)  # all of it, unseen
    before = stock(order)

    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_request(order_id=order.pk, lines=one_bottle(order), reason="", actor=None)

    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == Refund.Status.FAILED
    assert "has already been refunded" in refund.failure_reason
    assert order.payment_flagged and f"refused refund #{refund.pk}" in order.payment_flag_reason
    assert stock(order) == before


def test_a_refund_made_in_the_dashboard_is_recorded_once_and_flags_the_order(sandbox):
    order = paid_order(sandbox)
    made = sandbox_dashboard_refund(sandbox, payment_intent=order.payment_intent, amount_minor=500)

    answers = deliver(events_of(sandbox, order) * 2)

    [external] = Refund.objects.filter(order=order)
    assert (external.kind, external.status) == (Refund.Kind.EXTERNAL, Refund.Status.SUCCEEDED)
    assert (external.amount, external.stripe_refund_id) == (Decimal("5.00"), made["id"])
    order.refresh_from_db()
    assert order.status == Order.Status.PAID  # still to ship: 5 € of it given back
    assert (order.refund_state, order.refunded_amount) == (RefundState.PARTIAL, Decimal("5.00"))
    assert order.payment_flagged and "made in Stripe's dashboard" in order.payment_flag_reason
    assert answers.count("Flagged for staff") == 1


def test_a_dispute_flags_the_order(sandbox):
    order = paid_order(sandbox, card=DISPUTED)

    [answer] = deliver(events_of(sandbox, order))

    order.refresh_from_db()
    assert answer == "Flagged for staff"
    assert order.payment_flagged
    assert "disputes the payment (fraudulent" in order.payment_flag_reason


def test_reconciliation_sends_a_refund_the_broker_never_took_once(sandbox):
    order = paid_order(sandbox)
    refund = refund_request(
        order_id=order.pk, lines=one_bottle(order), reason="", actor=None
    )  # no task
    assert payment_reconcile() == 0  # too recent: its task may still come
    Refund.objects.filter(pk=refund.pk).update(created=refund.created - timedelta(minutes=6))

    assert payment_reconcile() == 1
    assert payment_reconcile() == 0

    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert len(posted_refunds(sandbox)) == 1


def test_reconciliation_finds_a_refund_whose_answer_was_lost_without_sending_it_again(sandbox):
    order = paid_order(sandbox)
    refund = refund_request(order_id=order.pk, lines=one_bottle(order), reason="", actor=None)
    stripe_client.refund_create(
        payment_intent=order.payment_intent,
        amount_minor=1200,
        currency=order.currency,
        refund_id=refund.pk,
        order_number=order.number,
    )
    Refund.objects.filter(pk=refund.pk).update(created=refund.created - timedelta(minutes=6))

    assert payment_reconcile() == 1

    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert len(posted_refunds(sandbox)) == 1


def test_reconciliation_settles_a_pending_refund_stripe_has_settled(
    sandbox, django_capture_on_commit_callbacks
):
    order = paid_order(sandbox, card=REFUND_PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_request(order_id=order.pk, lines=one_bottle(order), reason="", actor=None)
    refund.refresh_from_db()
    assert (refund.status, refund.stripe_refund_id[:3]) == (Refund.Status.PENDING, "re_")
    Refund.objects.filter(pk=refund.pk).update(created=refund.created - timedelta(minutes=6))
    assert payment_reconcile() == 0  # still pending at Stripe
    sandbox_settle_refunds(sandbox)

    assert payment_reconcile() == 1

    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert ("GET", f"/v1/refunds/{refund.stripe_refund_id}") in api_calls(sandbox)


ANSWER = "the API's answer"


@hsettings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_every_refund_event_twice_in_any_order_settles_the_refund_once(settings, data):
    card = data.draw(st.sampled_from([SUCCEEDS, REFUND_PENDING]), label="card")
    with running_sandbox(settings) as server:
        order = paid_order(server, card=card)
        before = stock(order)
        refund = refund_request(order_id=order.pk, lines=one_bottle(order), reason="", actor=None)
        answer = stripe_client.refund_create(
            payment_intent=order.payment_intent,
            amount_minor=1200,
            currency=order.currency,
            refund_id=refund.pk,
            order_number=order.number,
        )
        sandbox_settle_refunds(server)
        events = events_of(server, order)
        assert {e["type"] for e in events} >= {"refund.created", "charge.refunded"}
        deliveries = data.draw(st.permutations([*events, *events, ANSWER]), label="deliveries")

        for delivery in deliveries:
            if delivery == ANSWER:
                refund_object_apply(obj=answer)
            else:
                deliver([delivery])

    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert refund.stripe_refund_id == answer["id"]
    assert succeeded_notes(refund) == 1
    assert stock(order) == before + 1
    assert (order.refunded_amount, order.refund_state) == (Decimal("12.00"), RefundState.PARTIAL)
    assert not order.payment_flagged
    assert Refund.objects.filter(order=order).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_two_staff_refunding_the_same_bottles_at_once_refund_them_once(postgres_only, settings):
    with running_sandbox(settings) as server:
        order = paid_order(server)
        before = stock(order)
        item = order.items.get(quantity=3)
        lines = [RefundLineRequest(item_id=item.pk, quantity=2, restock=True)]

        results = run_together(
            2,
            lambda i: refund_request(
                order_id=order.pk, lines=lines, reason=f"staff {i}", actor=None
            ),
        )

        [refund] = [r for r in results if isinstance(r, Refund)]
        assert [type(r).__name__ for r in results if not isinstance(r, Refund)] == [
            "RefundTooLarge"
        ]
        [posted] = posted_refunds(server)
    assert posted["headers"]["Idempotency-Key"] == stripe_client.refund_idempotency_key(refund.pk)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert Refund.objects.filter(order=order).count() == 1
    assert stock(order) == before + 2
    item.refresh_from_db()
    assert (item.refunded_quantity, item.restocked_quantity) == (2, 2)
