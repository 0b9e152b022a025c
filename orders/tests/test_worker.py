"""A real worker process on the run's broker (RabbitMQ in CI, files on the embedded default)."""

import pytest
from django.conf import settings

from backoffice.celery import app as celery_app
from backoffice.tests.workers import Worker, purge_queues, use_real_broker, wait_for
from orders.models import OrderEmail, OrderEvent
from orders.services import place_order
from orders.tests.factories import customer
from shop.tests.factories import WineFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


@pytest.fixture
def real_broker():
    use_real_broker()
    purge_queues()
    yield
    celery_app.conf.task_always_eager = True


@pytest.fixture
def mail_dir(tmp_path):
    folder = tmp_path / "mail"
    folder.mkdir()
    return folder


def sent_mails(mail_dir) -> list[str]:
    return [path.read_text() for path in mail_dir.glob("*.log")]


def test_placing_an_order_sends_exactly_one_confirmation(real_broker, mail_dir):
    worker = Worker(mail_dir)
    try:
        order = place_order(lines=[(WineFactory(stock=3).pk, 1)], customer=customer())
        email = order.emails.get()
        wait_for(
            lambda: OrderEmail.objects.get(pk=email.pk).sent_at is not None,
            timeout=30,
            what="the confirmation to be sent",
        )
    finally:
        worker.stop()
    mails = sent_mails(mail_dir)
    assert len(mails) == 1, worker.output()
    assert f"Subject: Your order {order.number}" in mails[0]
    assert order.events.filter(kind=OrderEvent.Kind.EMAIL).count() == 1


@pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("amqp"),
    reason="redelivery of an unacknowledged task is a RabbitMQ guarantee",
)
def test_a_task_of_a_killed_worker_is_redelivered_and_sent_once(real_broker, mail_dir):
    slow = Worker(mail_dir, mail_pause=30)
    try:
        order = place_order(lines=[(WineFactory(stock=3).pk, 1)], customer=customer())
        wait_for((mail_dir / "sending.marker").exists, timeout=30, what="the send to begin")
    finally:
        slow.kill()
    assert sent_mails(mail_dir) == []
    (mail_dir / "sending.marker").unlink()

    worker = Worker(mail_dir)
    try:
        wait_for(
            lambda: order.emails.get().sent_at is not None,
            timeout=60,
            what="the redelivered task",
        )
    finally:
        worker.stop()
    assert len(sent_mails(mail_dir)) == 1
    assert order.events.filter(kind=OrderEvent.Kind.EMAIL).count() == 1
