"""The customer's order page, opened by its signed link from any device."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone, translation

from core.mail import mailbox
from coupons.models import Coupon
from coupons.tests.factories import CouponFactory
from orders.links import order_link_path, order_link_token
from orders.models import Order, Refund
from orders.services import order_note_add, order_ship
from orders.tests.factories import france_zone, pay, place
from shop.cart import Cart
from shop.models import Wine
from shop.tests.factories import WineFactory
from shop.tests.pages import flash_messages, shared_part

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    """A pending order of 2 bottles at 12.90 and 1 at 7.35 with a 10 % coupon, delivered for
    4.90 to Bordeaux."""
    france_zone(price="4.90")
    a = WineFactory(name="Château Lefèvre", price="12.90", stock=10)
    b = WineFactory(name="Côtes du Rhône", price="7.35", stock=10)
    coupon = CouponFactory(code="AUTUMN", percent_off=10, max_uses=1)
    return place(lines=[(a.pk, 2), (b.pk, 1)], coupon_code=coupon.code)


def stock(order) -> list[int]:
    return list(Wine.objects.filter(order_items__order=order).order_by("pk").values_list("stock"))


def test_the_order_page_shows_its_lines_coupon_delivery_total_and_actions(
    client, order, django_assert_max_num_queries
):
    order_note_add(order_id=order.pk, actor=None, message="Customer sounded tipsy on the phone.")

    with django_assert_max_num_queries(6):
        response = client.get(order_link_path(number=order.number))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Château Lefèvre" in page and "Côtes du Rhône" in page
    assert "Wine" in page and "33.15" in page
    assert "Coupon AUTUMN" in page and "−€3.32" in page  # 10 % of 33.15, rounded half up
    assert "Delivery to France" in page and "4.90" in page
    assert "Total" in page and "34.73" in page and "incl. VAT 20" in page
    assert "Awaiting payment" in page
    assert reverse("payments:process", args=[order_link_token(number=order.number)])[:30] in page
    assert "Change my order" in page and "Cancel my order" in page
    assert "Order placed" in page
    assert "tipsy" not in page  # staff notes stay in the admin
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_timeline_tells_the_customer_paid_shipped_and_refunded(client, order):
    pay(order)
    order_ship(order_id=order.pk, carrier="La Poste Colissimo", tracking_number="6A12345678901")
    Refund.objects.create(
        order=order,
        amount=Decimal("12.90"),
        status=Refund.Status.SUCCEEDED,
        succeeded_at=timezone.now(),
        stripe_refund_id="re_1",
    )
    Refund.objects.create(order=order, amount=Decimal("5.00"), stripe_refund_id="re_2")

    page = client.get(order_link_path(number=order.number)).content.decode()

    assert "Payment received" in page
    assert "Shipped with La Poste Colissimo" in page
    assert "6A12345678901" in page  # in the carrier's tracking link
    assert "Refunded €12.90" in page and "5.00" not in page  # a pending refund is not told yet
    assert "Customer sent to Stripe" not in page and "bottles back in stock" not in page
    assert "Pay now" not in page and "Cancel my order" not in page


def test_a_tampered_link_is_refused_with_a_form_to_ask_for_a_new_one(client, order):
    token = order_link_token(number=order.number)
    other = order_link_token(number="WS-AAAA-BBBB")
    for bad in [
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        other.replace("AAAA", "AAAB"),
        order.number,
        "nonsense",
    ]:
        response = client.get(reverse("orders:order_detail", args=[bad]))

        assert response.status_code == 404
        page = response.content.decode()
        assert "This link to an order is not valid" in page
        assert 'data-testid="order-link-form"' in page
        # The language form comes back to the address the visitor typed; nothing else tells.
        assert order.number not in shared_part(response)


def test_an_expired_link_gets_the_form_to_ask_for_a_new_one(client, order, settings, monkeypatch):
    settings.ORDER_LINK_MAX_AGE_DAYS = 30
    now = time.time()
    monkeypatch.setattr(signing.time, "time", lambda: now - timedelta(days=31).total_seconds())
    token = order_link_token(number=order.number)
    monkeypatch.undo()

    response = client.get(reverse("orders:order_detail", args=[token]))

    assert response.status_code == 410
    page = response.content.decode()
    assert "This link to your order has expired" in page
    assert 'data-testid="order-link-form"' in page
    assert "Château Lefèvre" not in page


def test_cancel_my_order_releases_the_bottles_and_the_coupon_at_once(client, order):
    key = order_link_token(number=order.number)
    assert stock(order) == [(8,), (9,)]

    response = client.post(reverse("orders:order_cancel", args=[key]), follow=True)

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELED
    assert stock(order) == [(10,), (10,)]
    assert Coupon.objects.get(code="AUTUMN").uses == 0
    event = order.events.get(to_status=Order.Status.CANCELED)
    assert (event.actor, event.message) == (None, "Order canceled: canceled by the customer")
    assert flash_messages(response) == [
        f"Your order {order.number} is canceled; nothing was charged for it."
    ]
    assert "Order canceled" in response.content.decode()


def test_a_paid_order_is_not_canceled_by_its_link(client, order):
    pay(order)
    key = order_link_token(number=order.number)

    response = client.post(reverse("orders:order_cancel", args=[key]), follow=True)

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert flash_messages(response) == [
        f"Your order {order.number} is paid: it can no longer be changed or canceled here."
    ]


def test_change_my_order_puts_its_lines_and_coupon_back_into_the_cart(client, order):
    key = order_link_token(number=order.number)

    response = client.post(reverse("orders:order_change", args=[key]), follow=True)

    assert response.redirect_chain == [(reverse("shop:cart_detail"), 302)]
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELED
    cart = response.context["cart"]
    assert {(line.wine.name, line.quantity) for line in cart} == {
        ("Château Lefèvre", 2),
        ("Côtes du Rhône", 1),
    }
    assert cart.coupon_code == "AUTUMN" and cart.discount == Decimal("3.32")
    assert stock(order) == [(10,), (10,)]  # free for the next checkout to take
    assert "back in your cart" in flash_messages(response)[0]


def test_change_my_order_says_what_could_not_come_back(client, order):
    wines = Wine.objects.filter(order_items__order=order).order_by("pk")
    Wine.objects.filter(pk=wines[0].pk).update(available=False)
    Coupon.objects.filter(code="AUTUMN").update(active=False)
    key = order_link_token(number=order.number)

    response = client.post(reverse("orders:order_change", args=[key]), follow=True)

    assert [line.wine.name for line in Cart(response.wsgi_request)] == ["Côtes du Rhône"]
    warnings = flash_messages(response)[1:]
    assert warnings[0].startswith("Sorry, Château Lefèvre") and "not available" in warnings[0]
    assert warnings[1].startswith("Coupon AUTUMN:")
    assert not response.context["cart"].coupon_code


def test_a_link_asked_for_goes_to_the_orders_address_only_when_both_match(
    client, order, settings, django_capture_on_commit_callbacks
):
    url = reverse("orders:order_link_ask")
    answers = []
    for email, number in [
        ("someone@example.com", order.number),
        (order.email, "WS-ZZZZ-ZZZZ"),
        (order.email.upper(), order.number.lower()),
    ]:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, {"email": email, "number": number})
        assert response.status_code == 200
        answers.append(shared_part(response))

    assert answers[0] == answers[1] == answers[2]  # nothing tells which one matched
    assert "If an order matches" in answers[0]
    (sent,) = mail.outbox
    assert sent.to == [mailbox(order.customer_name, order.email)]
    link = next(word for word in sent.body.split() if "/orders/order/" in word)
    assert link.startswith(settings.SHOP_URL)
    html, _ = sent.alternatives[0]
    assert f'href="{link}"' in html
    opened = Client().get(link.removeprefix(settings.SHOP_URL))  # from another device
    assert opened.status_code == 200 and order.number in opened.content.decode()


def test_asking_for_links_is_rate_limited_per_client(client, order):
    url = reverse("orders:order_link_ask")
    statuses = [
        client.post(
            url, {"email": f"guess{i}@example.com", "number": f"WS-AAAA-{i:04d}"}
        ).status_code
        for i in range(6)
    ]

    assert statuses == [200] * 5 + [429]
    assert not mail.outbox


def test_the_link_form_shows_its_errors(client):
    response = client.post(reverse("orders:order_link_ask"), {"email": "nope", "number": ""})

    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()


NBSP = "\u00a0"


def test_the_order_page_speaks_french_to_a_french_visitor(client, order):
    response = client.get(order_link_path(number=order.number), HTTP_ACCEPT_LANGUAGE="fr")

    page = response.content.decode()
    assert f"<h1>Commande {order.number}</h1>" in page
    assert "Statut" in page and "En attente de paiement" in page
    assert "Code promo AUTUMN" in page and f"−3,32{NBSP}€" in page
    assert "Livraison" in page and f"4,90{NBSP}€" in page
    assert f"34,73{NBSP}€" in page and "dont TVA 20" in page
    assert "Payer maintenant" in page and "Annuler ma commande" in page
    assert "Historique" in page and "Commande passée" in page
    with translation.override("fr"):
        month = formats.date_format(timezone.localtime(order.created), "F")
    assert f"Passée le {timezone.localtime(order.created).day} {month}" in page
    assert "Total incl. VAT" not in page and "€34.73" not in page


def test_cancel_my_order_is_confirmed_in_french(client, order):
    key = order_link_token(number=order.number)

    response = client.post(
        reverse("orders:order_cancel", args=[key]), follow=True, HTTP_ACCEPT_LANGUAGE="fr"
    )

    assert flash_messages(response) == [
        f"Votre commande {order.number} est annulée{NBSP}; rien ne vous a été débité."
    ]
    assert "Commande annulée" in response.content.decode()


def test_a_refused_link_says_so_in_french(client, order):
    response = client.get(
        reverse("orders:order_detail", args=["not-a-token"]), HTTP_ACCEPT_LANGUAGE="fr"
    )

    page = response.content.decode()
    assert response.status_code == 404
    assert "Ce lien vers une commande n’est pas valide" in page
    assert "Numéro de commande" in page and "M’envoyer un nouveau lien" in page


def test_the_link_to_a_french_order_is_emailed_in_french(
    client, order, django_capture_on_commit_callbacks
):
    Order.objects.filter(pk=order.pk).update(language="fr")

    with django_capture_on_commit_callbacks(execute=True):  # asked for from an English page
        client.post(
            reverse("orders:order_link_ask"), {"email": order.email, "number": order.number}
        )

    (sent,) = mail.outbox
    assert sent.subject == f"Le lien vers votre commande {order.number}"
    assert sent.body.startswith(f"Bonjour {order.first_name},")
    assert "voici, comme vous l’avez demandé, un nouveau lien" in sent.body
    assert "/orders/order/" in sent.body
    html, _ = sent.alternatives[0]
    assert '<html lang="fr">' in html and "Voir ma commande" in html
