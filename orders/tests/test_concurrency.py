"""Real concurrent checkouts and refunds on PostgreSQL: threads, each with its own database
connection."""

import threading
import time
from decimal import Decimal
from smtplib import SMTPDataError

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.utils import timezone

from orders import emails
from orders.exceptions import AlreadyShipped, InvalidTransition, OutOfStock, RefundTooLarge
from orders.models import Order, OrderEmail, OrderEvent, Refund
from orders.refunds import (
    RefundLineRequest,
    refund_fail,
    refund_record_external,
    refund_request,
    refund_succeed,
)
from orders.services import order_cancel, order_expire, order_ship
from orders.tests.factories import customer, france_zone, place
from shop.models import Wine
from shop.tests.factories import WineFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def run_together(count: int, work) -> list:
    """Run work(i) in count threads released at the same moment; return results or errors."""
    france_zone()  # where the orders placed in the threads go: made before they race for it
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def target(i):
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        except Exception as error:  # the test inspects every outcome
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_checkouts_for_the_last_bottle_give_one_order(postgres_only):
    wine = WineFactory(stock=1)
    results = run_together(
        2, lambda i: place(lines=[(wine.pk, 1)], customer=customer(email=f"c{i}@ex.com"))
    )
    orders = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, OutOfStock)]
    assert (len(orders), len(refused)) == (1, 1), results
    assert Order.objects.count() == 1
    assert Wine.objects.get(pk=wine.pk).stock == 0


def test_many_checkouts_never_oversell(postgres_only):
    a = WineFactory(stock=5)
    b = WineFactory(stock=5)
    # Lines in opposite orders would deadlock without the fixed lock order.
    results = run_together(
        8,
        lambda i: place(
            lines=[(a.pk, 1), (b.pk, 1)] if i % 2 else [(b.pk, 1), (a.pk, 1)],
            customer=customer(),
        ),
    )
    placed = sum(isinstance(r, Order) for r in results)
    assert all(isinstance(r, Order | OutOfStock) for r in results), results
    assert placed == 5
    assert Wine.objects.get(pk=a.pk).stock == 0
    assert Wine.objects.get(pk=b.pk).stock == 0


def test_concurrent_cancels_release_stock_once(postgres_only):
    wine = WineFactory(stock=10)
    order = place(lines=[(wine.pk, 3)], customer=customer())
    results = run_together(4, lambda i: order_cancel(order_id=order.pk))
    assert sum(isinstance(r, Order) for r in results) == 1
    assert sum(isinstance(r, InvalidTransition) for r in results) == 3
    assert Wine.objects.get(pk=wine.pk).stock == 10
    assert order.events.filter(kind=OrderEvent.Kind.STOCK_RELEASED).count() == 1


def test_expiry_racing_a_cancel_releases_stock_once(postgres_only):
    wine = WineFactory(stock=10)
    order = place(lines=[(wine.pk, 4)], customer=customer())
    results = run_together(
        2,
        lambda i: order_expire(order_id=order.pk) if i else order_cancel(order_id=order.pk),
    )
    assert sum(isinstance(r, Order) for r in results) == 1
    assert sum(isinstance(r, InvalidTransition) for r in results) == 1
    assert Wine.objects.get(pk=wine.pk).stock == 10
    assert order.events.filter(kind=OrderEvent.Kind.STOCK_RELEASED).count() == 1


def _paid(wine, quantity) -> Order:
    """An order of quantity bottles of the wine, paid (written as such: no email, no invoice)."""
    order = place(lines=[(wine.pk, quantity)], customer=customer())
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID, paid_at=timezone.now())
    return order


def test_two_staff_shipping_an_order_at_once_ship_it_once_with_one_email(
    postgres_only, django_user_model
):
    order = _paid(WineFactory(stock=10), 1)
    staff = [django_user_model.objects.create_user(f"clerk{i}", is_staff=True) for i in range(2)]
    results = run_together(
        2,
        lambda i: order_ship(
            order_id=order.pk, actor=staff[i], carrier="UPS", tracking_number=f"1Z00{i}"
        ),
    )
    shipped = [r for r in results if isinstance(r, Order)]
    assert len(shipped) == 1, results
    assert sum(isinstance(r, AlreadyShipped) for r in results) == 1, results
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert order.tracking_number == shipped[0].tracking_number
    [event] = order.events.filter(kind=OrderEvent.Kind.STATUS)
    assert event.actor in staff and order.tracking_number in event.message
    [email] = order.emails.all()
    assert (email.kind, email.sent_at is not None) == (OrderEmail.Kind.SHIPPED, True)
    [message] = mail.outbox
    assert message.subject == f"Your order {order.number} is on its way"


class SlowMailServer(EmailBackend):
    """Take a moment over each message, as an SMTP server does: the second worker handed the
    same email arrives while the first is sending it."""

    def send_messages(self, messages):
        time.sleep(0.3)
        return super().send_messages(messages)


class SlowDeferringMailServer(EmailBackend):
    def send_messages(self, messages):
        time.sleep(0.3)
        raise SMTPDataError(451, b"Try again later")


def _owed_email(order: Order) -> OrderEmail:
    return OrderEmail.objects.create(order=order, kind=OrderEmail.Kind.CONFIRMATION)


def test_two_workers_handed_the_same_email_send_it_once(postgres_only, settings):
    settings.EMAIL_BACKEND = f"{__name__}.SlowMailServer"
    email = _owed_email(place(lines=[(WineFactory(stock=5).pk, 1)], customer=customer()))
    results = run_together(2, lambda i: emails.order_email_send(email_id=email.pk))
    assert sorted(results) == [False, True], results
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert (email.attempts, email.sent_at is not None) == (1, True)
    assert email.order.events.filter(kind=OrderEvent.Kind.EMAIL).count() == 1


def test_a_send_the_server_defers_is_counted_once_and_the_other_worker_waits_for_its_retry(
    postgres_only, settings
):
    settings.EMAIL_BACKEND = f"{__name__}.SlowDeferringMailServer"
    email = _owed_email(place(lines=[(WineFactory(stock=5).pk, 1)], customer=customer()))
    results = run_together(2, lambda i: emails.order_email_send(email_id=email.pk))
    assert sum(isinstance(r, emails.EmailDeferred) for r in results) == 1, results
    assert False in results, results
    email.refresh_from_db()
    assert (email.attempts, email.sent_at, email.failed_at) == (1, None, None)
    assert email.retry_at > timezone.now()
    assert "Try again later" in email.failure_reason


def test_two_staff_refunding_the_last_bottle_of_a_line_give_one_refund(postgres_only):
    wine = WineFactory(stock=10)
    order = _paid(wine, 3)
    item = order.items.get()
    refund_request(order_id=order.pk, lines=[RefundLineRequest(item.pk, 2)], reason="", actor=None)
    results = run_together(
        2,
        lambda i: refund_request(
            order_id=order.pk,
            lines=[RefundLineRequest(item.pk, 1, restock=True)],
            reason=f"clerk {i}",
            actor=None,
        ),
    )
    refunds = [r for r in results if isinstance(r, Refund)]
    assert len(refunds) == 1, results
    assert sum(isinstance(r, RefundTooLarge) for r in results) == 1, results
    item.refresh_from_db()
    assert (item.refunded_quantity, item.restocked_quantity) == (3, 0)
    order.refresh_from_db()
    assert (order.refunds_committed, order.refunded_amount) == (wine.price * 3, 0)
    assert Refund.objects.count() == 2

    run_together(2, lambda i: refund_succeed(refund_id=refunds[0].pk))
    assert Wine.objects.get(pk=wine.pk).stock == 7 + 1


def test_a_refund_told_succeeded_twice_at_once_restocks_once(postgres_only):
    wine = WineFactory(stock=10)
    order = _paid(wine, 3)
    refund = refund_request(
        order_id=order.pk,
        lines=[RefundLineRequest(order.items.get().pk, 2, restock=True)],
        reason="",
        actor=None,
    )
    results = run_together(
        4, lambda i: refund_succeed(refund_id=refund.pk, stripe_refund_id="re_1")
    )
    assert sorted(results) == [False, False, False, True], results
    assert Wine.objects.get(pk=wine.pk).stock == 7 + 2
    order.refresh_from_db()
    assert order.refunded_amount == wine.price * 2
    assert order.items.get().restocked_quantity == 2
    assert (
        order.events.filter(kind=OrderEvent.Kind.REFUND, message__contains="succeeded").count() == 1
    )


def test_a_refund_told_succeeded_and_failed_at_once_is_settled_once(postgres_only):
    wine = WineFactory(stock=10)
    order = _paid(wine, 3)
    refund = refund_request(
        order_id=order.pk,
        lines=[RefundLineRequest(order.items.get().pk, 3, restock=True)],
        reason="",
        actor=None,
    )
    results = run_together(
        2,
        lambda i: (
            refund_succeed(refund_id=refund.pk)
            if i
            else refund_fail(refund_id=refund.pk, reason="declined")
        ),
    )
    assert sorted(results) == [False, True], results
    refund.refresh_from_db()
    order.refresh_from_db()
    item = order.items.get()
    if refund.status == Refund.Status.SUCCEEDED:
        assert (order.refunds_committed, order.refunded_amount) == (order.total, order.total)
        assert (item.refunded_quantity, Wine.objects.get(pk=wine.pk).stock) == (3, 10)
    else:
        assert (order.refunds_committed, order.refunded_amount) == (0, 0)
        assert (item.refunded_quantity, Wine.objects.get(pk=wine.pk).stock) == (0, 7)


def test_a_refund_made_in_stripe_told_twice_at_once_is_recorded_once(postgres_only):
    order = _paid(WineFactory(stock=10), 3)
    results = run_together(
        3,
        lambda i: refund_record_external(
            order_id=order.pk, stripe_refund_id="re_dash", amount=Decimal("5.00")
        ),
    )
    assert sum(isinstance(r, Refund) for r in results) == 1, results
    assert results.count(None) == 2
    order.refresh_from_db()
    assert (order.refunds_committed, order.refunded_amount) == (Decimal(5), Decimal(5))


def test_refunds_of_different_lines_at_once_are_all_counted(postgres_only):
    a, b = WineFactory(stock=10), WineFactory(stock=10)
    order = place(lines=[(a.pk, 2), (b.pk, 2)], customer=customer())
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID, paid_at=timezone.now())
    items = list(order.items.order_by("pk"))
    results = run_together(
        4,
        lambda i: refund_request(
            order_id=order.pk,
            lines=[RefundLineRequest(items[i % 2].pk, 1, restock=True)],
            reason="",
            actor=None,
        ),
    )
    assert all(isinstance(r, Refund) for r in results), results
    run_together(4, lambda i: refund_succeed(refund_id=results[i].pk))
    order.refresh_from_db()
    assert order.refunded_amount == order.refunds_committed == order.total
    assert [Wine.objects.get(pk=w.pk).stock for w in (a, b)] == [10, 10]


def test_canceling_a_paid_order_while_it_is_refunded_changes_nothing_of_the_refund(
    postgres_only,
):
    wine = WineFactory(stock=10)
    order = _paid(wine, 2)
    item = order.items.get()
    results = run_together(
        2,
        lambda i: (
            order_cancel(order_id=order.pk)
            if i
            else refund_request(
                order_id=order.pk,
                lines=[RefundLineRequest(item.pk, 2, restock=True)],
                reason="",
                actor=None,
            )
        ),
    )
    assert isinstance(results[0], Refund) and isinstance(results[1], InvalidTransition), results
    assert Wine.objects.get(pk=wine.pk).stock == 8
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
