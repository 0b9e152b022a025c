import re
from datetime import timedelta
from decimal import Decimal
from email.headerregistry import Address

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from backoffice.celery import app as celery_app
from backoffice.tests import workers
from orders import emails, links
from orders.exceptions import InvalidTransition
from orders.models import Order, OrderEmail, OrderEvent
from orders.refunds import RefundLineRequest, refund_record_external, refund_request, refund_succeed
from orders.services import order_ship
from orders.tests.factories import (
    OrderFactory,
    OrderItemFactory,
    customer,
    france_zone,
    paid_order,
    pay,
)
from orders.tests.factories import place as place_order
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
    assert message.to == ["=?utf-8?q?Camille_Rodr=C3=ADguez?= <ana@example.com>"]  # RFC 2047
    assert "Thank you for your order" in message.body
    assert "Barolo Monfalletto" in message.body
    assert "Barolo Monfalletto" in message.alternatives[0][0]
    email = order.emails.get()
    assert email.kind == OrderEmail.Kind.PAYMENT and email.sent_at is not None
    assert order.events.filter(kind=OrderEvent.Kind.EMAIL).count() == 1


def test_nothing_is_sent_before_the_order_commits():
    place(WineFactory(stock=5))
    assert mail.outbox == []
    assert OrderEmail.objects.get().sent_at is None


# The email read with its order while it is owed, and the order's items for the message; then
# in a transaction (a savepoint inside a test's): the claim that stamps it and the event.
CONFIRMATION_SEND = 6
# The email read and found sent: nothing is locked.
SENT_AGAIN = 1


def test_sending_a_confirmation_takes_a_fixed_number_of_queries(django_assert_num_queries):
    order = place_order(lines=[(WineFactory(stock=5).pk, 1)], customer=customer())
    email = OrderEmail.objects.create(order=order, kind=OrderEmail.Kind.CONFIRMATION)

    with django_assert_num_queries(CONFIRMATION_SEND):
        assert emails.order_email_send(email_id=email.pk) is True
    with django_assert_num_queries(SENT_AGAIN):
        assert emails.order_email_send(email_id=email.pk) is False
    assert len(mail.outbox) == 1


def test_a_second_delivery_does_not_send_again():
    order = place(WineFactory(stock=5))
    email = order.emails.get()
    assert emails.order_email_send(email_id=email.pk) is True
    assert emails.order_email_send(email_id=email.pk) is False
    assert len(mail.outbox) == 1
    assert order.events.filter(kind=OrderEvent.Kind.EMAIL).count() == 1


def test_failed_send_leaves_the_email_owed(settings):
    order = place(WineFactory(stock=5))
    email = order.emails.get()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1
    with pytest.raises(emails.EmailDeferred) as deferred:
        emails.order_email_send(email_id=email.pk)
    assert isinstance(deferred.value.__cause__, OSError)  # connection refused
    email.refresh_from_db()
    assert email.sent_at is None and email.failed_at is None
    assert email.attempts == 1 and email.retry_at > timezone.now()
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
    assert emails.order_email_send_pending() == 0  # too recent: the normal path may still be on it
    OrderEmail.objects.filter(pk=email.pk).update(
        created=timezone.now() - timedelta(minutes=settings.EMAIL_RETRY_AFTER_MINUTES + 1)
    )
    assert emails.order_email_send_pending() == 1
    assert len(mail.outbox) == 1
    assert emails.order_email_send_pending() == 0


STAFF = "merchant@shop.test"


def owed_email(**order_fields) -> OrderEmail:
    """An order confirmation owed a while ago, so that the sweep takes it up."""
    order = OrderFactory(**order_fields)
    OrderItemFactory(order=order)
    email = OrderEmail.objects.create(order=order, kind=OrderEmail.Kind.CONFIRMATION)
    return _owed_since(email, minutes=60)


def _owed_since(email, *, minutes: int) -> OrderEmail:
    OrderEmail.objects.filter(pk=email.pk).update(
        created=timezone.now() - timedelta(minutes=minutes)
    )
    email.refresh_from_db()
    return email


def test_a_name_with_a_comma_reaches_the_customer(smtp_server):
    email = owed_email(first_name="John", last_name="Smith, Jr.", email="john@example.com")
    assert emails.order_email_send(email_id=email.pk) is True
    [received] = smtp_server.messages
    assert received.rcpt_tos == ["john@example.com"]
    assert received.message["To"].addresses == (
        Address(display_name="John Smith, Jr.", addr_spec="john@example.com"),
    )


def test_an_address_written_in_the_name_never_receives_the_mail(smtp_server):
    email = owed_email(first_name="attacker@evil.test (", email="ana@example.com")
    assert emails.order_email_send(email_id=email.pk) is True
    [received] = smtp_server.messages
    assert received.rcpt_tos == ["ana@example.com"]
    [to] = received.message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("attacker@evil.test ( Rodríguez", "ana@example.com")


def test_an_accented_name_with_quotes_and_commas_is_written_as_typed(smtp_server):
    name = ('Zoë "Zed"', "O'Neil, Jr. <z@evil.test>")
    email = owed_email(first_name=name[0], last_name=name[1], email="zoe@exämple.com")
    emails.order_email_send(email_id=email.pk)
    [received] = smtp_server.messages
    assert received.rcpt_tos == ["zoe@xn--exmple-cua.com"]
    [to] = received.message["To"].addresses
    assert (to.display_name, to.addr_spec) == (" ".join(name), "zoe@xn--exmple-cua.com")


def test_a_refused_recipient_fails_at_once_and_staff_are_alerted_once(
    smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.STAFF_ALERT_EMAILS = [STAFF]
    email = owed_email(email="gone@example.com")
    smtp_server.refuse("gone@example.com", 550)
    with django_capture_on_commit_callbacks(execute=True):
        assert emails.order_email_send(email_id=email.pk) is False
    email.refresh_from_db()
    assert email.sent_at is None and email.failed_at is not None
    assert email.attempts == 1
    assert email.failure_reason == "Recipient refused: 550 5.1.1 mailbox unavailable"
    event = email.order.events.get(kind=OrderEvent.Kind.EMAIL_FAILED)
    assert "550 5.1.1 mailbox unavailable" in event.message
    [alert] = smtp_server.to(STAFF)
    assert email.order.number in alert.message["Subject"]
    assert "550 5.1.1 mailbox unavailable" in alert.message.get_body(("plain",)).get_content()

    # Never tried again, never alerted again: a second delivery, the sweep, a repeated alert.
    with django_capture_on_commit_callbacks(execute=True):
        assert emails.order_email_send(email_id=email.pk) is False
        assert emails.order_email_send_pending() == 0
        assert emails.order_email_failure_alert(email_id=email.pk) == 0
    email.refresh_from_db()
    assert email.attempts == 1
    assert len(smtp_server.to(STAFF)) == 1
    assert smtp_server.to("gone@example.com") == []


def test_a_failed_email_is_sent_again_once_the_address_is_corrected(
    smtp_server, settings, django_capture_on_commit_callbacks, admin_client
):
    settings.STAFF_ALERT_EMAILS = [STAFF]
    email = owed_email(email="ana@exmaple.com")
    smtp_server.refuse("ana@exmaple.com", 550)
    with django_capture_on_commit_callbacks(execute=True):
        emails.order_email_send(email_id=email.pk)
    Order.objects.filter(pk=email.order_id).update(email="ana@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        changelist = reverse("admin:orders_order_changelist")
        action = {"action": "retry_emails", "_selected_action": [email.order_id]}
        response = admin_client.post(changelist, action, follow=True)
    assert "1 failed email(s) queued again." in response.content.decode()
    email.refresh_from_db()
    assert email.sent_at is not None and email.failed_at is None and email.attempts == 1
    assert [received.rcpt_tos for received in smtp_server.to("ana@example.com")] == [
        ["ana@example.com"]
    ]
    assert email.order.events.filter(actor=admin_client.user).exists()


def test_the_sweep_sends_a_staff_alert_that_was_never_queued(smtp_server, settings):
    settings.STAFF_ALERT_EMAILS = [STAFF]
    email = owed_email(email="gone@example.com")
    failed_at = timezone.now() - timedelta(hours=1)  # its alert's task was lost with the broker
    OrderEmail.objects.filter(pk=email.pk).update(failed_at=failed_at, failure_reason="550 gone")
    emails.order_email_send_pending()
    emails.order_email_send_pending()
    assert len(smtp_server.to(STAFF)) == 1
    assert smtp_server.to("gone@example.com") == []


def test_a_staff_address_the_server_refuses_is_not_alerted_again_and_again(
    smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.STAFF_ALERT_EMAILS = ["typo@shop.test"]
    smtp_server.refuse("typo@shop.test", 550)
    email = owed_email(email="gone@example.com")
    smtp_server.refuse("gone@example.com", 550)
    with django_capture_on_commit_callbacks(execute=True):
        emails.order_email_send(email_id=email.pk)
    email.refresh_from_db()
    assert email.failed_at is not None and email.staff_alerted_at is not None
    assert smtp_server.messages == []


def test_a_deferring_server_is_tried_a_bounded_number_of_times(
    smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.STAFF_ALERT_EMAILS = [STAFF]
    settings.EMAIL_MAX_ATTEMPTS = 3
    email = owed_email(email="greylisted@example.com")
    smtp_server.refuse("greylisted@example.com", 451)
    for attempt in range(1, 6):
        with django_capture_on_commit_callbacks(execute=True):
            emails.order_email_send_pending()  # the task tries, and its retry is planned
        email.refresh_from_db()
        assert email.attempts == min(attempt, 3)
        if email.retry_at:  # the pause is over
            OrderEmail.objects.filter(pk=email.pk).update(retry_at=timezone.now())
    assert email.failed_at is not None
    assert email.failure_reason == "Recipient refused: 451 4.1.1 try again later"
    assert email.order.events.filter(kind=OrderEvent.Kind.EMAIL_FAILED).count() == 1
    assert len(smtp_server.to(STAFF)) == 1
    assert email.sent_at is None


def test_a_deferred_email_waits_for_its_pause(smtp_server, django_capture_on_commit_callbacks):
    email = owed_email(email="greylisted@example.com")
    smtp_server.refuse("greylisted@example.com", 451)
    with pytest.raises(emails.EmailDeferred) as deferred:
        emails.order_email_send(email_id=email.pk)
    assert deferred.value.retry_in == emails.retry_delay(1) >= 30
    assert emails.order_email_send_pending() == 0  # not due yet
    assert emails.order_email_send(email_id=email.pk) is False  # a second delivery waits too
    email.refresh_from_db()
    assert email.attempts == 1


def owed_emails(count: int, *, hours_ago: int, **email_fields) -> list[OrderEmail]:
    orders = Order.objects.bulk_create(
        OrderFactory.build(email=f"gone{n}@example.com") for n in range(count)
    )
    owed = OrderEmail.objects.bulk_create(
        OrderEmail(order=order, kind=OrderEmail.Kind.CONFIRMATION, **email_fields)
        for order in orders
    )
    OrderEmail.objects.filter(pk__in=[email.pk for email in owed]).update(
        created=timezone.now() - timedelta(hours=hours_ago)
    )
    return owed


def test_the_sweep_is_not_blocked_by_emails_that_can_never_go(smtp_server):
    # A full sweep's worth of the oldest emails, each to a recipient the server refuses.
    poisoned = owed_emails(25, hours_ago=2)
    for email in poisoned:
        smtp_server.refuse(email.order.email, 550)
    fresh = owed_email(email="ana@example.com")  # owed after all of them

    assert emails.order_email_send_pending(limit=25) == 25  # each refused once
    emails.order_email_send_pending(limit=25)
    assert [received.rcpt_tos for received in smtp_server.messages] == [["ana@example.com"]]
    fresh.refresh_from_db()
    assert fresh.sent_at is not None
    assert OrderEmail.objects.filter(failed_at__isnull=False).count() == 25
    assert emails.order_email_send_pending(limit=25) == 0


def test_the_sweep_takes_new_emails_before_hundreds_of_failed_or_deferred_ones(
    django_capture_on_commit_callbacks,
):
    failed = owed_emails(500, hours_ago=3, attempts=1, failed_at=timezone.now())
    OrderEmail.objects.filter(pk__in=[e.pk for e in failed]).update(staff_alerted_at=timezone.now())
    owed_emails(500, hours_ago=2, attempts=4, retry_at=timezone.now() - timedelta(minutes=1))
    fresh = owed_email(email="ana@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        assert emails.order_email_send_pending(limit=10) == 10
    fresh.refresh_from_db()
    assert fresh.sent_at is not None  # first in line: never tried
    assert mail.outbox[0].to[0].endswith(" <ana@example.com>")
    assert not OrderEmail.objects.filter(failed_at__isnull=False, attempts__gt=1).exists()


def test_an_attachment_registered_twice_goes_once_with_its_note(monkeypatch):
    monkeypatch.setattr(emails, "attachment_providers", {})

    def card(email):
        return emails.Attachment(
            "card.bin",
            email.order.number.encode(),
            "application/octet-stream",
            "A card is attached.",
        )

    emails.register_attachment(card, kind=OrderEmail.Kind.PAYMENT)
    emails.register_attachment(card, kind=OrderEmail.Kind.PAYMENT)
    order = pay(OrderFactory())
    email = order.emails.get(kind=OrderEmail.Kind.PAYMENT)

    assert emails.order_email_send(email_id=email.pk)
    [message] = mail.outbox
    assert message.attachments == [
        ("card.bin", email.order.number.encode(), "application/octet-stream")
    ]
    assert "A card is attached." in message.body
    assert "<p>A card is attached.</p>" in message.alternatives[0][0]


def pdfs_of(message) -> list[tuple[str, bytes]]:
    return [
        (part.get_filename(), part.get_content())
        for part in message.iter_attachments()
        if part.get_content_type() == "application/pdf"
    ]


def test_a_refund_sends_one_email_carrying_its_credit_note_though_delivered_twice(
    smtp_server, django_capture_on_commit_callbacks
):
    order = paid_order(("30.00", 3))
    item = order.items.get()
    line = RefundLineRequest(item_id=item.pk, quantity=1, restock=True)
    refund = refund_request(order_id=order.pk, lines=[line], reason="Corked", actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert refund_succeed(refund_id=refund.pk, stripe_refund_id="re_test_1")
    email = order.emails.get(kind=OrderEmail.Kind.REFUND)
    assert email.refund == refund and email.sent_at is not None
    assert emails.order_email_send(email_id=email.pk) is False  # delivered again
    with django_capture_on_commit_callbacks(execute=True):
        assert not refund_succeed(refund_id=refund.pk, stripe_refund_id="re_test_1")

    [received] = smtp_server.to(order.email)
    message = received.message
    assert message["Subject"] == f"Refund for order {order.number}"
    [(filename, content)] = pdfs_of(message)
    number = re.fullmatch(r"credit-note-(CN-\d{4}-000001)\.pdf", filename).group(1)
    assert content.startswith(b"%PDF")
    body = message.get_body(("plain",)).get_content()
    assert "1 × " + item.wine_name in body and "30.00" in body
    assert f"Your credit note {number} is attached." in body
    html = message.get_body(("html",)).get_content()
    assert f"<p>Your credit note {number} is attached.</p>" in html
    assert (
        order.events.filter(kind=OrderEvent.Kind.EMAIL, message__startswith="Refund").count() == 1
    )


def test_each_refund_of_an_order_is_owed_its_own_email_once(django_capture_on_commit_callbacks):
    order = paid_order(("20.00", 2))
    with django_capture_on_commit_callbacks(execute=True):
        first = refund_record_external(
            order_id=order.pk, stripe_refund_id="re_dash_1", amount=Decimal("5.00")
        )
        second = refund_record_external(
            order_id=order.pk, stripe_refund_id="re_dash_2", amount=Decimal("7.00")
        )
    sent = order.emails.filter(kind=OrderEmail.Kind.REFUND).order_by("pk")
    assert [(email.refund, email.sent_at is not None) for email in sent] == [
        (first, True),
        (second, True),
    ]
    refund_mails = [m for m in mail.outbox if m.subject == f"Refund for order {order.number}"]
    assert len(refund_mails) == 2
    assert "Goodwill refund" in refund_mails[0].body and "5.00" in refund_mails[0].body
    assert [a[0].startswith("credit-note-CN-") for m in refund_mails for a in m.attachments] == [
        True,
        True,
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderEmail.objects.create(order=order, kind=OrderEmail.Kind.REFUND, refund=first)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderEmail.objects.create(order=order, kind=OrderEmail.Kind.REFUND)  # names no refund
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderEmail.objects.create(order=order, kind=OrderEmail.Kind.PAYMENT)  # owed once already


def ship(django_capture_on_commit_callbacks, order, **shipment):
    with django_capture_on_commit_callbacks(execute=True):
        order_ship(order_id=order.pk, **shipment)
    return order


def test_the_shipping_notice_gives_the_carrier_the_tracking_number_and_its_link(
    smtp_server, django_capture_on_commit_callbacks
):
    order = OrderFactory(status=Order.Status.PAID, first_name="Zoë", email="zoe@example.com")
    OrderItemFactory(order=order, wine_name="Barolo Monfalletto")
    ship(django_capture_on_commit_callbacks, order, carrier="UPS", tracking_number="1Z 999-AA")
    [received] = smtp_server.messages
    assert received.rcpt_tos == ["zoe@example.com"]
    assert received.message["To"].addresses == (
        Address(display_name="Zoë Rodríguez", addr_spec="zoe@example.com"),
    )
    assert received.message["Subject"] == f"Your order {order.number} is on its way"
    link = "https://www.ups.com/track?tracknum=1Z%20999-AA"
    text = received.message.get_body(("plain",)).get_content()
    assert "is on its way with UPS" in text and "Tracking number: 1Z 999-AA" in text
    assert f"Follow your parcel: {link}" in text and "Barolo Monfalletto" in text
    html = received.message.get_body(("html",)).get_content()
    assert re.search(f'<a href="{re.escape(link)}"[^>]*>follow your parcel</a>', html)
    email = order.emails.get()
    assert email.kind == OrderEmail.Kind.SHIPPED and email.sent_at is not None
    assert order.events.get(kind=OrderEvent.Kind.EMAIL).message == (
        "Shipping notice sent to zoe@example.com."
    )


def test_the_shipping_notice_names_a_carrier_it_has_no_link_for(django_capture_on_commit_callbacks):
    order = OrderFactory(status=Order.Status.PAID)
    ship(django_capture_on_commit_callbacks, order, carrier="Coursier", tracking_number="C-42")
    [message] = mail.outbox
    assert "is on its way with Coursier." in message.body
    assert "Tracking number: C-42" in message.body and "Follow your parcel" not in message.body


def test_the_shipping_notice_without_tracking_says_only_it_is_on_its_way(
    django_capture_on_commit_callbacks,
):
    order = OrderFactory(status=Order.Status.PAID)
    ship(django_capture_on_commit_callbacks, order)
    [message] = mail.outbox
    assert f"Your order {order.number} at" in message.body and "is on its way." in message.body
    assert "Tracking" not in message.body and "Tracking" not in message.alternatives[0][0]


def test_a_click_and_collect_order_is_told_to_come_to_the_shop(
    django_capture_on_commit_callbacks, settings
):
    settings.SHOP_ADDRESS = ["12 quai des Chartrons", "33000 Bordeaux"]
    order = OrderFactory(status=Order.Status.PAID, delivery_method="collect", address="")
    ship(django_capture_on_commit_callbacks, order)
    [message] = mail.outbox
    assert message.subject == f"Your order {order.number} is ready for collection"
    assert "collect it at the shop" in message.body and "33000 Bordeaux" in message.body
    assert "on its way" not in message.body and "Delivery to" not in message.body
    assert "12 quai des Chartrons, 33000 Bordeaux" in message.alternatives[0][0]


def test_the_shipping_notice_is_sent_once_however_often_the_order_is_shipped(
    django_capture_on_commit_callbacks,
):
    order = ship(django_capture_on_commit_callbacks, OrderFactory(status=Order.Status.PAID))
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InvalidTransition):
        order_ship(order_id=order.pk)
    email = order.emails.get()
    assert emails.order_email_send(email_id=email.pk) is False  # a task delivered twice
    assert len(mail.outbox) == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderEmail.objects.create(order=order, kind=OrderEmail.Kind.SHIPPED)


def test_the_paid_email_shows_the_delivery_before_the_total_and_where_it_goes(smtp_server):
    france_zone(price="9.90")
    wine = WineFactory(price=Decimal("12.50"), stock=5)
    order = pay(place_order(lines=[(wine.pk, 2)]))
    assert emails.order_email_send(email_id=order.emails.get().pk) is True

    [received] = smtp_server.messages
    text = received.message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Delivery to France (France): €9.90\nTotal: €34.90\nincl. VAT 20 %: €5.82" in text
    assert (
        "Delivery to:\n  Camille Rodríguez\n  12 rue des Vignes\n  33000 Bordeaux\n  France" in text
    )
    html = received.message.get_body(("html",)).get_content()
    assert re.search(r">Delivery to France \(France\)</td><td[^>]*>€9.90</td>", html)
    assert "Bordeaux, France." in html


def test_the_paid_email_of_a_collected_order_gives_the_shop_address(smtp_server, settings):
    wine = WineFactory(price=Decimal("12.50"), stock=5)
    order = pay(place_order(lines=[(wine.pk, 1)], delivery_method="collect"))
    assert emails.order_email_send(email_id=order.emails.get().pk) is True

    [received] = smtp_server.messages
    text = received.message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Click & collect: free\nTotal: €12.50" in text
    assert f"Collect your order at {', '.join(settings.SHOP_ADDRESS)}" in text
    assert "Delivery to:" not in text


def parts(received) -> tuple[str, str]:
    """Return the text and HTML parts of a message the SMTP server received."""
    text = received.message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    return text, received.message.get_body(("html",)).get_content()


def test_every_customer_email_links_to_the_order_and_carries_the_shop_footer(
    smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.SHOP_URL = "http://testserver-shop.test"
    settings.SHOP_CONTACT_EMAIL = "hello@wine-shop.test"
    order = place(WineFactory(price=Decimal("12.50"), stock=5))
    with django_capture_on_commit_callbacks(execute=True):
        order_ship(order_id=order.pk, carrier="UPS", tracking_number="1Z999", actor=None)
    for email in order.emails.order_by("pk"):
        emails.order_email_send(email_id=email.pk)

    assert len(smtp_server.messages) == 2  # paid, then shipped
    for received in smtp_server.messages:
        text, html = parts(received)
        [link] = re.findall(r"http://testserver-shop\.test/orders/order/\S+/", text)
        assert link.endswith("/") and f'href="{link}"' in html
        token = link.rstrip("/").rsplit("/", 1)[1]
        assert links.order_link_number(token=token) == order.number
        for part in (text, html):
            assert "hello@wine-shop.test" in part
            assert settings.SHOP_LEGAL_NOTICE in part
            assert settings.SHOP_ADDRESS[0] in part
        assert received.message["Reply-To"] == "hello@wine-shop.test"


def test_the_html_part_escapes_what_the_customer_typed_and_the_text_part_keeps_it(smtp_server):
    order = place(WineFactory(price=Decimal("12.50"), stock=5), first_name="<b>Zoé</b> & Co")
    emails.order_email_send(email_id=order.emails.get().pk)

    text, html = parts(smtp_server.messages[0])
    assert "Dear <b>Zoé</b> & Co," in text
    assert "&lt;b&gt;Zoé&lt;/b&gt; &amp; Co" in html and "<b>Zoé</b>" not in html


def test_the_paid_email_lists_the_coupon_between_the_items_and_the_total(smtp_server):
    order = paid_order(("35.23", 10), percent_off=10)
    emails.order_email_send(email_id=order.emails.get().pk)

    text, html = parts(smtp_server.messages[0])
    assert "— €352.30\nWine: €352.30\nCoupon " in text and ": −€35.23\n" in text
    assert "\nTotal: €317.07\nincl. VAT 20 %: €52.85\n" in text
    assert re.search(r">Coupon [^<]+</td><td[^>]*>−€35.23</td>", html)


def test_staff_alerts_link_to_the_order_in_the_admin(smtp_server, settings):
    settings.STAFF_ALERT_EMAILS = [STAFF]
    settings.SHOP_URL = "http://testserver-shop.test/"
    order = place(WineFactory(price=Decimal("12.50"), stock=5))
    Order.objects.filter(pk=order.pk).update(payment_flag_reason="Paid twice.")
    emails.order_payment_alert(order_id=order.pk)

    [received] = smtp_server.to(STAFF)
    text, html = parts(received)
    admin_page = "http://testserver-shop.test" + reverse(
        "admin:orders_order_change", args=[order.pk]
    )
    assert admin_page in text and f'href="{admin_page}"' in html
    assert "Paid twice." in text


NBSP = "\u00a0"


def test_an_order_placed_in_french_gets_its_paid_email_in_french(smtp_server, settings):
    settings.SHOP_URL = "http://testserver-shop.test"
    france_zone(price="9.90")
    wine = WineFactory(price=Decimal("12.50"), stock=5)
    order = pay(place_order(lines=[(wine.pk, 2)], language="fr"))
    emails.order_email_send(email_id=order.emails.get().pk)

    [received] = smtp_server.messages
    assert received.message["Subject"] == f"Commande {order.number} confirmée et payée"
    text, html = parts(received)
    assert "Bonjour Camille," in text and f"paiement de 34,90{NBSP}€" in text
    assert f"2 × {wine.name} {wine.vintage} — 25,00{NBSP}€\nVin{NBSP}: 25,00{NBSP}€\n" in text
    assert f"Livraison – France (France){NBSP}: 9,90{NBSP}€\n" in text
    assert f"Total{NBSP}: 34,90{NBSP}€\ndont TVA 20 %{NBSP}: 5,82{NBSP}€\n" in text
    assert f"Livraison à{NBSP}:\n  Camille Rodríguez" in text
    assert re.search(r"\nVotre facture \S+ est jointe à cet e-mail\.\n", text)
    assert '<html lang="fr">' in html and "Commande confirmée, paiement reçu" in html
    assert re.search(f">Vin</td><td[^>]*>25,00{NBSP}€</td>", html)
    assert re.search(f">Total</th><th[^>]*>34,90{NBSP}€</th>", html)
    assert f"Une question{NBSP}? Répondez à cet e-mail" in html
    for part in (text, html):
        assert "Thank you" not in part and "Delivery" not in part and "€34.90" not in part
        [link] = re.findall(r"http://testserver-shop\.test/orders/order/[^\s\"]+/", part)
        token = link.rstrip("/").rsplit("/", 1)[1]
        assert links.order_link_number(token=token) == order.number


def test_an_english_order_is_written_in_english_whatever_the_worker_last_spoke(smtp_server):
    order = paid_order(("12.50", 1))
    with translation.override("fr"):
        emails.order_email_send(email_id=order.emails.get().pk)

    [received] = smtp_server.messages
    assert received.message["Subject"] == f"Order {order.number} confirmed and paid"
    text, html = parts(received)
    assert "Thank you for your order" in text and "Total: €12.50\n" in text
    assert '<html lang="en">' in html and "Bonjour" not in text + html


def test_a_french_order_is_told_in_french_that_it_is_on_its_way(
    smtp_server, django_capture_on_commit_callbacks
):
    order = OrderFactory(status=Order.Status.PAID, language="fr")
    OrderItemFactory(order=order, vintage=None)
    ship(django_capture_on_commit_callbacks, order, carrier="UPS", tracking_number="1Z999")

    [received] = smtp_server.messages
    assert received.message["Subject"] == f"Votre commande {order.number} est en route"
    text, html = parts(received)
    assert "a été confiée à UPS" in text and f"Numéro de suivi{NBSP}: 1Z999" in text
    assert f"Suivre votre colis{NBSP}: https://www.ups.com/track?loc=fr_FR&tracknum=1Z999" in text
    assert " NM\n" in text and ">suivre votre colis</a>" in html


def test_a_french_collected_order_is_told_in_french_to_come_to_the_shop(
    django_capture_on_commit_callbacks,
):
    order = OrderFactory(
        status=Order.Status.PAID, delivery_method="collect", address="", language="fr"
    )
    ship(django_capture_on_commit_callbacks, order)
    [message] = mail.outbox
    assert message.subject == f"Votre commande {order.number} vous attend en boutique"
    assert "vous pouvez venir la retirer en boutique" in message.body


def test_staff_alerts_stay_in_the_back_office_language_whatever_the_worker_last_spoke(
    smtp_server, settings
):
    settings.STAFF_ALERT_EMAILS = [STAFF]
    wine = WineFactory(price=Decimal("12.50"), stock=5)
    order = pay(place_order(lines=[(wine.pk, 1)], language="fr"))
    Order.objects.filter(pk=order.pk).update(payment_flag_reason="Paid twice.")
    with translation.override("fr"):
        emails.order_payment_alert(order_id=order.pk)

    [received] = smtp_server.to(STAFF)
    text, html = parts(received)
    assert "Camille Rodríguez, €12.50" in text and '<html lang="en">' in html


def test_a_french_order_confirmation_holds_the_bottles_in_french(smtp_server):
    email = owed_email(language="fr", first_name="Zoé")
    emails.order_email_send(email_id=email.pk)

    [received] = smtp_server.messages
    assert received.message["Subject"] == f"Votre commande {email.order.number}"
    text, html = parts(received)
    assert text.startswith("Bonjour Zoé,\n\nMerci pour votre commande")
    assert f"Nous vous réservons ces bouteilles{NBSP}:" in text
    assert "Merci pour votre commande, Zoé</h1>" in html
    assert "Nous vous écrirons dès réception de votre paiement." in html
