"""A real worker process on the run's broker (RabbitMQ in CI, files on the embedded default)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from backoffice.celery import app as celery_app
from backoffice.tests.workers import Worker, broker_away, wait_for
from orders.emails import order_email_publish, order_email_send_pending
from orders.models import OrderEmail, OrderEvent
from orders.tests.factories import OrderFactory, OrderItemFactory, customer, pay, place
from shop.tests.factories import WineFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def queued(queue: str) -> int:
    with celery_app.connection_for_write() as conn:
        declared = conn.default_channel.queue_declare(queue=queue, durable=True, auto_delete=False)
    return declared.message_count


def wait_until_sent(email_id: int, *, what: str, timeout: float = 30) -> None:
    wait_for(
        lambda: OrderEmail.objects.get(pk=email_id).sent_at is not None,
        timeout=timeout,
        what=f"{what} to be sent",
    )


def sent_mails(mail_dir) -> list[str]:
    return [path.read_text() for path in mail_dir.glob("*.log")]


def placed_and_paid():
    return pay(place(lines=[(WineFactory(stock=3).pk, 1)], customer=customer()))


def test_paying_an_order_sends_exactly_one_confirmation(real_broker, mail_dir):
    worker = Worker(mail_dir)
    try:
        order = placed_and_paid()
        email = order.emails.get()
        wait_until_sent(email.pk, what="the confirmation")
    finally:
        worker.stop()
    mails = sent_mails(mail_dir)
    assert len(mails) == 1, worker.output()
    assert f"Subject: Order {order.number} confirmed and paid" in mails[0]
    assert order.events.filter(kind=OrderEvent.Kind.EMAIL).count() == 1


@pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("amqp"),
    reason="redelivery of an unacknowledged task is a RabbitMQ guarantee",
)
def test_a_task_of_a_killed_worker_is_redelivered_and_sent_once(real_broker, mail_dir):
    slow = Worker(mail_dir, mail_pause=30)
    try:
        order = placed_and_paid()
        wait_for((mail_dir / "sending.marker").exists, timeout=30, what="the send to begin")
    finally:
        slow.kill()
    assert sent_mails(mail_dir) == []
    (mail_dir / "sending.marker").unlink()

    worker = Worker(mail_dir)
    try:
        wait_until_sent(order.emails.get().pk, what="the redelivered task", timeout=60)
    finally:
        worker.stop()
    assert len(sent_mails(mail_dir)) == 1
    assert order.events.filter(kind=OrderEvent.Kind.EMAIL).count() == 1


def test_an_order_placed_while_the_broker_is_down_is_confirmed_once_it_is_back(
    real_broker, mail_dir
):
    # The broker is unreachable: queuing the confirmation fails at once, the order stands.
    with broker_away():
        order = placed_and_paid()
    email = order.emails.get()
    assert email.sent_at is None
    assert queued("emails") == 0

    # The broker is back: the sweep Beat runs every few minutes queues what is still owed.
    worker = Worker(mail_dir)
    try:
        OrderEmail.objects.filter(pk=email.pk).update(
            created=timezone.now() - timedelta(minutes=settings.EMAIL_RETRY_AFTER_MINUTES + 1)
        )
        assert order_email_send_pending() == 1
        wait_until_sent(email.pk, what="the swept confirmation")
    finally:
        worker.stop()
    assert len(sent_mails(mail_dir)) == 1
    assert order.events.filter(kind=OrderEvent.Kind.EMAIL).count() == 1


def owed_email(address: str) -> OrderEmail:
    order = OrderFactory(email=address)
    OrderItemFactory(order=order)
    return OrderEmail.objects.create(order=order, kind=OrderEmail.Kind.CONFIRMATION)


def test_a_worker_gives_up_a_refused_email_and_retries_a_deferred_one(
    real_broker, mail_dir, smtp_server
):
    refused, deferred = owed_email("gone@example.com"), owed_email("greylisted@example.com")
    smtp_server.refuse("gone@example.com", 550)
    smtp_server.refuse("greylisted@example.com", 451)
    env = {"TEST_SMTP_PORT": str(smtp_server.port), "STAFF_ALERT_EMAILS": "merchant@shop.test"}
    worker = Worker(mail_dir, env=env)
    try:
        order_email_publish(refused.pk)
        order_email_publish(deferred.pk)
        wait_for(
            lambda: OrderEmail.objects.filter(
                pk=refused.pk, staff_alerted_at__isnull=False
            ).exists(),
            timeout=30,
            what="staff to be alerted",
        )
        wait_for(lambda: "Retry in" in worker.output(), timeout=30, what="the deferred retry")
    finally:
        worker.stop()
    refused.refresh_from_db()
    deferred.refresh_from_db()
    assert (refused.attempts, refused.failure_reason[:22]) == (1, "Recipient refused: 550")
    assert deferred.failed_at is None and deferred.attempts == 1 and deferred.retry_at
    assert len(smtp_server.to("merchant@shop.test")) == 1
    assert [m.rcpt_tos for m in smtp_server.messages] == [["merchant@shop.test"]]
