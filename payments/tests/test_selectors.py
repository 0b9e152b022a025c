from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import Order
from orders.services import order_note_add
from orders.tests.factories import OrderFactory
from payments.selectors import (
    MISSING_SESSION_NOTE,
    order_get,
    order_of_checkout_session,
    order_of_payment,
    orders_to_reconcile,
)
from payments.tests.factories import checkout_session

pytestmark = pytest.mark.django_db


def test_a_checkout_session_names_its_order_by_id_and_number():
    order = OrderFactory()
    assert order_of_checkout_session(session=checkout_session(order)) == order
    assert order_of_checkout_session(session=checkout_session(order, metadata={})) == order
    other = checkout_session(order, metadata={"order_number": "WS-XXXX-XXXX"})
    assert order_of_checkout_session(session=other) is None


def test_a_reference_that_is_not_an_order_id_names_no_order():
    order = OrderFactory()
    eastern_arabic = str(order.pk).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    for reference in [None, "", f"{order.pk} ", f"+{order.pk}", f"{order.pk}.0", eastern_arabic]:
        session = checkout_session(order, client_reference_id=reference)
        assert order_of_checkout_session(session=session) is None, reference
    huge = checkout_session(order, client_reference_id="9" * 19, metadata={})
    assert order_of_checkout_session(session=huge) is None


def test_a_refund_names_the_order_paid_with_its_payment():
    paid = OrderFactory(status=Order.Status.PAID, payment_intent="pi_1")
    OrderFactory()  # not paid: no payment of its own
    assert order_of_payment(payment_intent="pi_1") == paid
    assert order_of_payment(payment_intent="pi_2") is None
    assert order_of_payment(payment_intent="") is None


def test_an_order_is_got_by_id_or_none():
    order = OrderFactory()
    assert order_get(order_id=order.pk) == order
    assert order_get(order_id=order.pk + 1) is None


def test_the_orders_to_reconcile_are_pending_sent_to_stripe_and_old_enough():
    due = OrderFactory(stripe_session_id="cs_due")
    OrderFactory()  # never sent to Stripe
    OrderFactory(stripe_session_id="cs_paid", status=Order.Status.PAID)
    lost = OrderFactory(stripe_session_id="cs_lost")
    order_note_add(order_id=lost.pk, actor=None, message=f"{MISSING_SESSION_NOTE}cs_lost: lost.")
    # The customer opened a new session since Stripe lost the first: the new one is asked about.
    renewed = OrderFactory(stripe_session_id="cs_new")
    order_note_add(order_id=renewed.pk, actor=None, message=f"{MISSING_SESSION_NOTE}cs_old: lost.")

    soon = timezone.now() + timedelta(minutes=1)
    assert list(orders_to_reconcile(placed_before=soon)) == [due, renewed]
    assert list(orders_to_reconcile(placed_before=due.created)) == []
