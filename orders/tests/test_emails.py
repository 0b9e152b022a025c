from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from backoffice.celery import app as celery_app
from backoffice.tests import workers
from orders import emails
from orders.models import OrderEmail, OrderEvent
from orders.services import place_order
from orders.tests.factories import customer, pay
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_away():
    with workers.broker_away():
        yield


def place(wine, **overrides):
    """Place and pay an order: the one email it owes is its confirmation and receipt."""
    return pay(place_order(lines=[(wine.pk, 1)], customer=customer(**overrides)))


def test_placing_an_order_mails_nothing_and_paying_mails_one_confirmation(
    django_capture_on_commit_callbacks,
):
    wine = WineFactory(name="Barolo Monfalletto", stock=5)
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(lines=[(wine.pk, 1)], customer=customer(email="ana@example.com"))
    # Whoever placed it chose the name and the address: nothing goes out before money moves.
    assert mail.outbox == []
    assert not order.emails.exists()

    with django_capture_on_commit_callbacks(execute=True):
        pay(order)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == f"Order {order.number} confirmed and paid"
    assert message.to == ["Camille Rodríguez <ana@example.com>"]
    assert "thank you for your order" in message.body
    assert "Barolo Monfalletto" in message.body
    assert "Barolo Monfalletto" in message.alternatives[0][0]
    email = order.emails.get()
    assert email.kind == OrderEmail.Kind.PAYMENT and email.sent_at is not None
    assert order.events.filter(kind=OrderEvent.Kind.EMAIL).count() == 1


def test_nothing_is_sent_before_the_order_commits():
    place(WineFactory(stock=5))
    assert mail.outbox == []
    assert OrderEmail.objects.get().sent_at is None


def test_a_second_delivery_does_not_send_again():
    order = place(WineFactory(stock=5))
    email = order.emails.get()
    assert emails.send_order_email(email_id=email.pk) is True
    assert emails.send_order_email(email_id=email.pk) is False
    assert len(mail.outbox) == 1
    assert order.events.filter(kind=OrderEvent.Kind.EMAIL).count() == 1


def test_failed_send_leaves_the_email_owed(settings):
    order = place(WineFactory(stock=5))
    email = order.emails.get()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1
    with pytest.raises(OSError):
        emails.send_order_email(email_id=email.pk)
    email.refresh_from_db()
    assert email.sent_at is None
    assert not order.events.filter(kind=OrderEvent.Kind.EMAIL).exists()


def test_order_is_placed_when_the_broker_is_away_and_the_sweep_sends_later(
    broker_away, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        order = place(WineFactory(stock=5))
    assert order.pk and mail.outbox == []
    email = order.emails.get()
    assert email.sent_at is None

    # The broker is back; the sweep picks up what is still owed after the grace period.
    celery_app.conf.task_always_eager = True
    assert emails.send_pending_emails() == 0  # too recent: the normal path may still be on it
    OrderEmail.objects.filter(pk=email.pk).update(
        created=timezone.now() - timedelta(minutes=settings.EMAIL_RETRY_AFTER_MINUTES + 1)
    )
    assert emails.send_pending_emails() == 1
    assert len(mail.outbox) == 1
    assert emails.send_pending_emails() == 0
