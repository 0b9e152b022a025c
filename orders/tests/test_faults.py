"""Checkout traffic through faults: the broker away, database connections cut. Orders are
placed or refused cleanly, nothing is half-written, and every email owed is sent once."""

import re
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backoffice.books import books_check
from backoffice.tests.workers import Worker, broker_away, wait_for
from orders.emails import order_email_send, order_email_send_pending
from orders.models import Order, OrderEmail, OrderEvent
from orders.tests.factories import CHECKOUT_FIELDS, OrderFactory, pay
from orders.tests.test_concurrency import run_together
from orders.tests.test_worker import sent_mails
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db(transaction=True)

STOCK = 500
OUTAGE_SECONDS = 5
DROPS = 3


def buy_one(client: Client, wine):
    client.post(reverse("shop:cart_add", args=[wine.pk]), {"quantity": 1})
    fields = {**CHECKOUT_FIELDS, "expected_total": str(wine.price)}
    return client.post(reverse("orders:checkout"), fields)


def assert_books(wine, *, emails_sent: bool) -> None:
    checks = books_check(initial_stock={wine.pk: STOCK}, emails_sent=emails_sent)
    assert [check.wrong for check in checks] == [[]] * len(checks)


@pytest.mark.worker
def test_checkouts_while_the_broker_is_away_are_confirmed_once_it_is_back(real_broker, mail_dir):
    wine = WineFactory(stock=STOCK, price="9.50")
    client = Client()
    with broker_away():
        end = time.monotonic() + OUTAGE_SECONDS
        while time.monotonic() < end:
            response = buy_one(client, wine)
            assert response.status_code == 302
            assert response.url.startswith("/payment/process/")
            pay(Order.objects.latest("pk"))  # Stripe's word comes while the broker is away
            time.sleep(0.2)
    placed = Order.objects.count()
    assert placed > 1
    assert OrderEmail.objects.filter(sent_at__isnull=True).count() == placed

    # The broker is back: the sweep Beat runs queues every email still owed.
    worker = Worker(mail_dir)
    try:
        owed_since = timezone.now() - timedelta(minutes=settings.EMAIL_RETRY_AFTER_MINUTES + 1)
        OrderEmail.objects.update(created=owed_since)
        assert order_email_send_pending() == placed
        wait_for(
            lambda: not OrderEmail.objects.filter(sent_at__isnull=True).exists(),
            timeout=60,
            what="every confirmation to be sent",
        )
    finally:
        worker.stop()
    # A file may hold several messages: count the messages, by subject (each names its order).
    subjects = Counter(re.findall(r"^Subject: (.+)$", "".join(sent_mails(mail_dir)), re.M))
    assert len(subjects) == placed
    assert set(subjects.values()) == {1}
    assert_books(wine, emails_sent=True)


@pytest.mark.postgres
def test_dropped_database_connections_fail_requests_cleanly(postgres_only):
    wine = WineFactory(stock=STOCK, price="9.50")
    connection.ensure_connection()
    spared = connection.connection.info.backend_pid  # the test's own, for the checks after
    done, dropped, statuses = threading.Event(), [], []

    def drop_all():
        for _ in range(DROPS):
            time.sleep(0.4)
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND pid <> %s",
                    [spared],
                )
                dropped.append(cursor.fetchone()[0])
        done.set()

    def shop():
        client = Client(raise_request_exception=False)
        while not done.is_set():
            response = buy_one(client, wine)
            # A checkout cut after its bottles were put in the cart leaves them there: the next
            # one finds more bottles than it was shown, and the page shows the new total.
            moved = response.status_code == 200 and b"Your total is now" in response.content
            statuses.append("total moved" if moved else response.status_code)

    outcomes = run_together(4, lambda i: drop_all() if i == 0 else shop())
    assert outcomes == [None] * 4, outcomes

    assert sum(dropped) > 0
    # A cut connection fails the request: 500, or 400 when it hits the session's save (Django
    # reads a session it could not update as one deleted meanwhile).
    assert set(statuses) <= {302, 400, 500, "total moved"}, statuses
    assert statuses.count(302) > 0
    orders = Order.objects.count()
    assert orders > 0
    assert_books(wine, emails_sent=False)
    # The shop answers again at once.
    assert buy_one(Client(), wine).url.startswith("/payment/process/")
    assert Order.objects.count() == orders + 1


class CutAfterSending(EmailBackend):
    """Deliver, then lose the database connection, as when PostgreSQL drops it mid-task."""

    def send_messages(self, messages):
        sent = super().send_messages(messages)
        pid = connection.connection.info.backend_pid

        def terminate(_):
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

        run_together(1, terminate)
        return sent


@pytest.mark.postgres
def test_an_email_sent_as_the_connection_is_cut_is_stamped_not_sent_again(postgres_only, settings):
    email = OrderEmail.objects.create(order=OrderFactory(), kind=OrderEmail.Kind.CONFIRMATION)
    settings.EMAIL_BACKEND = "orders.tests.test_faults.CutAfterSending"

    assert order_email_send(email_id=email.pk) is True
    assert order_email_send(email_id=email.pk) is False

    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert email.sent_at is not None
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.EMAIL).count() == 1
