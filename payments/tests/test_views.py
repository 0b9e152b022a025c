"""The payment pages, with the SDK talking to the local Stripe sandbox."""

import re
import time

import pytest
from django.test import Client
from django.urls import resolve, reverse
from hypothesis import given
from hypothesis import strategies as st

from orders.links import order_link_number, order_link_token
from orders.models import Order, OrderEvent
from orders.tests.factories import CHECKOUT_FIELDS, pay
from orders.tests.test_concurrency import run_together
from orders.views import PLACED_ORDERS_KEY
from payments import stripe_client
from payments.tests.fuzz import JSON, examples, written
from payments.tests.sandbox import api_calls, running_sandbox, sandbox_get, silent_server
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db


def test_payment_process_opens_a_checkout_session_with_the_orders_lines(client, placed, sandbox):
    response = client.get(reverse("payments:process", args=[placed.number]))
    assert response.status_code == 303
    placed.refresh_from_db()
    assert response["Location"] == f"{sandbox.base_url}/pay/{placed.stripe_session_id}"

    (call,) = sandbox_get(sandbox, "/_sandbox/requests")
    assert (call["method"], call["path"]) == ("POST", "/v1/checkout/sessions")
    params = call["params"]
    assert params["mode"] == "payment"
    assert params["client_reference_id"] == str(placed.pk)
    assert params["metadata"] == {"order_number": placed.number}
    assert params["customer_email"] == "camille@example.com"
    assert params["locale"] == "en"
    lines = sorted(
        (
            int(item["price_data"]["unit_amount"]),
            int(item["quantity"]),
            item["price_data"]["currency"],
        )
        for item in params["line_items"]
    )
    assert lines == [(735, 1, "eur"), (1290, 2, "eur")]
    assert params["success_url"].endswith(reverse("payments:completed", args=[placed.number]))
    assert params["cancel_url"].endswith(reverse("payments:canceled", args=[placed.number]))
    assert 30 * 60 <= int(params["expires_at"]) - time.time() <= 24 * 3600
    assert call["headers"]["Idempotency-Key"].startswith(f"checkout-{placed.number}-")


def test_an_open_session_is_reused_not_doubled(client, placed, sandbox):
    first = client.get(reverse("payments:process", args=[placed.number]))["Location"]
    second = client.get(reverse("payments:process", args=[placed.number]))["Location"]
    assert first == second
    calls = [(c["method"], c["path"]) for c in sandbox_get(sandbox, "/_sandbox/requests")]
    assert calls.count(("POST", "/v1/checkout/sessions")) == 1


def test_a_session_stripe_no_longer_knows_is_replaced(client, placed, sandbox):
    Order.objects.filter(pk=placed.pk).update(stripe_session_id="cs_test_lost_in_a_restart")

    response = client.get(reverse("payments:process", args=[placed.number]))

    assert response.status_code == 303
    placed.refresh_from_db()
    assert placed.stripe_session_id.startswith("cs_test_")
    assert response["Location"] == f"{sandbox.base_url}/pay/{placed.stripe_session_id}"


def test_the_completed_page_never_marks_the_order_paid(client, placed, sandbox):
    client.get(reverse("payments:process", args=[placed.number]))
    response = client.get(reverse("payments:completed", args=[placed.number]))
    assert "We are confirming your payment" in response.content.decode()
    placed.refresh_from_db()
    assert placed.status == Order.Status.PENDING


def test_someone_elses_order_cannot_be_paid_or_seen(client, placed, sandbox):
    client.session  # noqa: B018 - load, then forget the order
    session = client.session
    session[PLACED_ORDERS_KEY] = []
    session.save()
    for name in ("payments:process", "payments:completed", "payments:canceled"):
        assert client.get(reverse(name, args=[placed.number])).status_code == 404


def test_stripe_unreachable_gives_a_clear_message_and_the_order_stays_pending(
    client, placed, settings
):
    settings.STRIPE_SANDBOX_URL = "http://127.0.0.1:1"  # nothing listens there
    from payments import stripe_client

    stripe_client._client.cache_clear()
    response = client.get(reverse("payments:process", args=[placed.number]))
    stripe_client._client.cache_clear()
    assert response.status_code == 503
    assert "Our payment provider did not answer" in response.content.decode()
    assert "Try the payment again" in response.content.decode()
    placed.refresh_from_db()
    assert placed.status == Order.Status.PENDING


def test_a_stripe_timeout_gives_the_retry_page_and_a_retry_once_stripe_answers_works(
    client, placed, settings
):
    process = reverse("payments:process", args=[placed.number])
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    with silent_server() as url:
        settings.STRIPE_SANDBOX_URL = url
        stripe_client._client.cache_clear()
        response = client.get(process)
    assert response.status_code == 503
    assert "Our payment provider did not answer" in response.content.decode()
    placed.refresh_from_db()
    assert (placed.status, placed.stripe_session_id) == (Order.Status.PENDING, "")

    with running_sandbox(settings) as server:
        response = client.get(process)
    assert response.status_code == 303
    assert response["Location"].startswith(server.base_url)
    placed.refresh_from_db()
    assert placed.status == Order.Status.PENDING
    assert placed.stripe_session_id.startswith("cs_")


def test_a_canceled_payment_can_be_tried_again_while_the_order_is_pending(client, placed, sandbox):
    client.get(reverse("payments:process", args=[placed.number]))
    page = client.get(reverse("payments:canceled", args=[placed.number])).content.decode()
    assert reverse("payments:process", args=[placed.number]) in page
    Order.objects.filter(pk=placed.pk).update(status=Order.Status.EXPIRED)
    page = client.get(reverse("payments:canceled", args=[placed.number])).content.decode()
    assert reverse("payments:process", args=[placed.number]) not in page
    assert "expired" in page
    retry = client.get(reverse("payments:process", args=[placed.number]))
    assert order_link_number(token=resolve(retry.url).kwargs["key"]) == placed.number


NUMBERS = st.one_of(
    st.text(st.characters(exclude_categories=["Cs", "Cc"], exclude_characters="/"), min_size=1),
    st.from_regex(r"WS-[A-Z0-9]{4}-[A-Z0-9]{4}", fullmatch=True),
)


@examples
@given(
    data=st.data(),
    name=st.sampled_from(["payments:process", "payments:completed", "payments:canceled"]),
)
def test_payment_pages_of_orders_this_session_did_not_place_are_not_found(
    client, order, data, name
):
    number = data.draw(NUMBERS | st.just(order.number), label="number")
    placed = data.draw(st.lists(NUMBERS, max_size=3) | JSON, label="placed_orders")
    if isinstance(placed, list) and order.number in placed:
        placed.remove(order.number)
    session = client.session
    session[PLACED_ORDERS_KEY] = placed
    session.save()
    before = written()

    response = client.get(reverse(name, args=[number]))

    assert response.status_code == 404
    assert written() == before


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_a_double_click_opens_one_checkout_session(postgres_only, settings):
    wine = WineFactory(price="12.90", stock=5)
    first = Client()
    first.post(reverse("shop:cart_add", args=[wine.pk]), {"quantity": 2})
    first.post(reverse("orders:checkout"), {**CHECKOUT_FIELDS, "expected_total": "25.80"})
    order = Order.objects.get()
    second = Client()
    second.cookies = first.cookies  # the same browser
    process = reverse("payments:process", args=[order.number])

    # Stripe answers slowly enough that both clicks are in flight at once.
    with running_sandbox(settings, latency=0.3) as server:
        responses = run_together(2, lambda i: (first, second)[i].get(process))
        created = api_calls(server).count(("POST", "/v1/checkout/sessions"))

    assert [r.status_code for r in responses] == [303, 303], responses
    assert created == 1
    order.refresh_from_db()
    assert {r["Location"] for r in responses} == {
        f"{server.base_url}/pay/{order.stripe_session_id}"
    }
    assert order.events.filter(kind=OrderEvent.Kind.PAYMENT).count() == 1


def test_the_orders_link_pays_it_from_another_device(order, sandbox):
    key = order_link_token(number=order.number)
    elsewhere = Client()  # no session placed the order

    response = elsewhere.get(reverse("payments:process", args=[key]))

    assert response.status_code == 303
    order.refresh_from_db()
    assert response["Location"] == f"{sandbox.base_url}/pay/{order.stripe_session_id}"
    session = stripe_client.retrieve_checkout_session(order.stripe_session_id)
    assert session.success_url.endswith(reverse("payments:completed", args=[key]))
    assert session.cancel_url.endswith(reverse("payments:canceled", args=[key]))


def test_a_tampered_link_pays_nothing(order, client):
    key = order_link_token(number=order.number)
    for name in ("payments:process", "payments:completed", "payments:canceled"):
        response = client.get(reverse(name, args=[key[:-2]]))
        assert response.status_code == 404
        assert "This link to an order is not valid" in response.content.decode()
    order.refresh_from_db()
    assert order.stripe_session_id == ""


def test_after_cancel_on_stripes_page_the_customer_can_pay_change_or_cancel(client, placed):
    page = client.get(reverse("payments:canceled", args=[placed.number])).content.decode()

    for action in ("Pay now", "Change my order", "Cancel my order"):
        assert action in page
    assert reverse("orders:order_change", args=[placed.number]) in page
    assert reverse("orders:order_cancel", args=[placed.number]) in page
    link = re.search(r'href="(/orders/order/[^"]+)" data-testid="order-link"', page)
    assert order_link_number(token=resolve(link[1]).kwargs["key"]) == placed.number


def refresh_of(page: str) -> str | None:
    found = re.search(r'<meta http-equiv="refresh" content="3;url=([^"]*)">', page)
    return found[1] if found else None


def test_the_completed_page_refreshes_while_pending_and_stops_after_two_minutes(client, placed):
    url = reverse("payments:completed", args=[placed.number])

    first = client.get(url).content.decode()
    later = client.get(url + "?n=39").content.decode()
    last = client.get(url + "?n=40").content.decode()
    odd = client.get(url + "?n=%C2%B2").content.decode()

    assert refresh_of(first) == "?n=1"
    assert refresh_of(later) == "?n=40"
    assert refresh_of(last) is None
    assert "taking longer than usual" in last
    assert refresh_of(odd) == "?n=1"
    for page in (first, last):
        assert 'data-testid="order-link"' in page


def test_the_completed_page_shows_the_summary_once_paid_and_stops_refreshing(client, placed):
    pay(placed)

    page = client.get(reverse("payments:completed", args=[placed.number]) + "?n=3")

    text = page.content.decode()
    assert refresh_of(text) is None
    assert 'data-testid="payment-received"' in text
    assert 'data-testid="order-summary"' in text and "incl. VAT" in text
    assert 'data-testid="order-link"' in text


def test_the_completed_page_thanks_a_french_customer_in_french(client, placed):
    pay(placed)

    page = client.get(
        reverse("payments:completed", args=[placed.number]), HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()

    assert "Merci, Camille" in page
    assert "Votre paiement de <strong>33,15\u00a0€</strong>" in page
    assert "Vin" in page and "dont TVA" in page
    assert "Voir votre commande" in page


def test_a_customer_who_shops_in_french_pays_on_a_french_checkout_page(client, placed, sandbox):
    Order.objects.filter(pk=placed.pk).update(language="fr")

    client.get(reverse("payments:process", args=[placed.number]))

    (call,) = sandbox_get(sandbox, "/_sandbox/requests")
    assert call["params"]["locale"] == "fr"
