"""The offline Stripe sandbox, driven by the real SDK and by posts to its hosted page."""

import http.client
import json
import shutil
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode, urlsplit

import pytest
import stripe
from django.conf import settings
from django.core.management import CommandError, call_command

from core.money import to_minor_units
from core.tests.waiting import until
from orders.models import Order
from orders.tests.factories import OrderFactory, customer, place
from payments import stripe_client
from payments.models import StripeEvent
from payments.sandbox import start_in_thread
from payments.sandbox.ledger import SETTLE_SECONDS
from payments.sandbox.objects import DISPUTED, REFUND_FAILS, REFUND_PENDING
from payments.tests import factories
from shop.tests.factories import WineFactory

SECRET = "whsec_sandbox_tests"  # for sandboxes whose events no webhook of ours checks
CHROMIUM = shutil.which("chromium")


class Receiver(ThreadingHTTPServer):
    """A stand-in for the shop: keeps what is posted to it, answers 200 to everything."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.posted: list[tuple[str, dict]] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class _ReceiverHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.server.posted.append((body, dict(self.headers)))
        self.do_GET()

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<p>Back at the shop.</p>")

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = Receiver()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def sandbox(receiver):
    server, thread = start_in_thread(
        webhook_url=receiver.url + "/payment/webhook/", secret=settings.STRIPE_WEBHOOK_SECRET
    )
    yield server
    server.stop()
    thread.join()


@pytest.fixture
def api(sandbox):
    """The SDK, pointed at the sandbox."""
    return stripe.StripeClient(
        "sk_test_sandbox", base_addresses={"api": sandbox.base_url}, max_network_retries=0
    )


def session_params(**changes) -> dict:
    return {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 1290,
                    "product_data": {
                        "name": "Château Lagrézette 2019",
                        "metadata": {"sku": "LAG-2019"},
                    },
                },
                "quantity": 2,
            },
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 4800,
                    "product_data": {"name": "Barolo Monfalletto"},
                },
                "quantity": 1,
            },
        ],
        "client_reference_id": "17",
        "metadata": {"order_number": "W-2026-00017"},
        "customer_email": "camille@example.com",
        "success_url": "http://shop.test/payment/completed/W-2026-00017/?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://shop.test/payment/canceled/W-2026-00017/",
        "expires_at": int(time.time()) + 3600,
        **changes,
    }


def get(url: str) -> tuple[int, dict, str]:
    return _request("GET", url)


def post_form(url: str, data: dict) -> tuple[int, dict, str]:
    return _request("POST", url, urlencode(data))


def _request(method: str, url: str, body: str | None = None) -> tuple[int, dict, str]:
    """Return (status, headers, text) of one request; redirects are returned, not followed."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    connection.request(method, parts.path, body=body, headers=headers)
    response = connection.getresponse()
    result = response.status, dict(response.getheaders()), response.read().decode()
    connection.close()
    return result


def events(sandbox, receiver) -> list[dict]:
    assert sandbox.webhooks.wait(timeout=10)
    return [json.loads(body) for body, _ in receiver.posted]


def test_create_returns_a_session_with_its_amounts_and_payment_page(api, sandbox):
    params = session_params()

    session = api.v1.checkout.sessions.create(params)

    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert (session.amount_subtotal, session.amount_total, session.currency) == (7380, 7380, "eur")
    assert (session.status, session.payment_status, session.payment_intent) == (
        "open",
        "unpaid",
        None,
    )
    assert session.url == f"{sandbox.base_url}/pay/{session.id}"
    assert session.client_reference_id == "17"
    assert session.metadata.to_dict() == {"order_number": "W-2026-00017"}
    assert session.customer_email == "camille@example.com"
    assert session.expires_at == params["expires_at"]
    assert session.success_url == params["success_url"]
    assert session.livemode is False


def test_requests_are_recorded_with_their_form_parameters(api, sandbox):
    api.v1.checkout.sessions.create(session_params(), {"idempotency_key": "order-17-1"})

    [request] = json.loads(get(sandbox.base_url + "/_sandbox/requests")[2])

    assert (request["method"], request["path"], request["status"]) == (
        "POST",
        "/v1/checkout/sessions",
        200,
    )
    assert request["form"]["line_items[0][price_data][unit_amount]"] == "1290"
    assert request["form"]["line_items[0][price_data][product_data][name]"] == (
        "Château Lagrézette 2019"
    )
    assert request["form"]["line_items[1][quantity]"] == "1"
    assert request["form"]["metadata[order_number]"] == "W-2026-00017"
    assert request["params"]["line_items"][1]["price_data"]["currency"] == "eur"
    assert request["headers"]["Idempotency-Key"] == "order-17-1"
    assert request["headers"]["Authorization"] == "Bearer sk_test_sandbox"
    assert post_form(sandbox.base_url + "/_sandbox/requests", {})[0] == 404
    assert _request("DELETE", sandbox.base_url + "/_sandbox/requests")[0] == 200
    assert json.loads(get(sandbox.base_url + "/_sandbox/requests")[2]) == []


def test_retrieve_returns_the_session_as_it_is_now(api, sandbox):
    created = api.v1.checkout.sessions.create(session_params())
    post_form(created.url, {"action": "pay"})

    session = api.v1.checkout.sessions.retrieve(created.id)

    assert (session.status, session.payment_status) == ("complete", "paid")
    assert session.payment_intent.startswith("pi_")
    assert session.url is None  # as at Stripe: only an open session has a page


def test_same_idempotency_key_returns_the_same_session(api):
    params = session_params()

    first = api.v1.checkout.sessions.create(params, {"idempotency_key": "order-17-1"})
    again = api.v1.checkout.sessions.create(params, {"idempotency_key": "order-17-1"})
    other = api.v1.checkout.sessions.create(params, {"idempotency_key": "order-17-2"})

    assert again.id == first.id
    assert other.id != first.id
    with pytest.raises(stripe.IdempotencyError):
        api.v1.checkout.sessions.create(
            session_params(customer_email="someone@example.com"),
            {"idempotency_key": "order-17-1"},
        )


@pytest.mark.parametrize("ahead", [0, 29 * 60, 24 * 3600 + 60])
def test_expiry_outside_30_minutes_to_24_hours_is_refused(api, ahead):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        api.v1.checkout.sessions.create(session_params(expires_at=int(time.time()) + ahead))

    assert raised.value.http_status == 400
    assert raised.value.param == "expires_at"


def test_parameters_stripe_does_not_know_are_refused(api):
    params = session_params()
    params["line_items"][0]["price_data"]["unit_amount_cents"] = 1290

    with pytest.raises(stripe.InvalidRequestError, match="unknown parameter"):
        api.v1.checkout.sessions.create(params)


def test_unknown_session_is_a_stripe_404(api):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        api.v1.checkout.sessions.retrieve("cs_test_unknown")

    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"


def test_pay_redirects_to_success_url_and_sends_a_signed_completed_event(api, sandbox, receiver):
    session = api.v1.checkout.sessions.create(session_params())

    status, headers, _ = post_form(session.url, {"action": "pay"})

    assert status == 303
    assert headers["Location"] == (
        f"http://shop.test/payment/completed/W-2026-00017/?session={session.id}"
    )
    [event] = events(sandbox, receiver)
    [(body, received_headers)] = receiver.posted
    stripe.WebhookSignature.verify_header(
        body, received_headers["Stripe-Signature"], settings.STRIPE_WEBHOOK_SECRET, tolerance=300
    )
    assert event["id"].startswith("evt_")
    assert (event["object"], event["type"], event["livemode"]) == (
        "event",
        "checkout.session.completed",
        False,
    )
    paid = event["data"]["object"]
    assert (paid["id"], paid["status"], paid["payment_status"]) == (session.id, "complete", "paid")
    assert paid["payment_intent"].startswith("pi_")
    assert (paid["amount_total"], paid["client_reference_id"]) == (7380, "17")
    assert paid["metadata"] == {"order_number": "W-2026-00017"}
    assert event["request"] == {"id": None, "idempotency_key": None}


def forward_to_shop(client, receiver):
    """Post the one event the sandbox sent, as it was signed, to the shop's webhook."""
    [(body, headers)] = receiver.posted
    signature = {"HTTP_STRIPE_SIGNATURE": headers["Stripe-Signature"]}
    return factories.webhook_post(client, body, signature)


@pytest.mark.django_db
def test_a_declined_card_on_the_orders_session_lands_on_its_timeline_once(
    client, sandbox, receiver, settings
):
    from payments.services import checkout_session_ensure

    order = place(lines=[(WineFactory(stock=10, price="12.90").pk, 2)], customer=customer())
    settings.STRIPE_SANDBOX_URL = sandbox.base_url
    stripe_client._client.cache_clear()
    try:
        url = checkout_session_ensure(
            order_id=order.pk,
            success_url="http://shop.test/payment/completed/x/",
            cancel_url="http://shop.test/payment/canceled/x/",
        )
    finally:
        stripe_client._client.cache_clear()
    post_form(url, {"action": "decline"})
    [failed] = events(sandbox, receiver)

    for _ in range(2):  # Stripe delivers an event at least once
        assert forward_to_shop(client, receiver).status_code == 200

    assert failed["type"] == "payment_intent.payment_failed"
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING  # the customer may try another card
    assert list(
        order.events.filter(message__startswith="Card declined").values_list("message")
    ) == [("Card declined: Your card was declined. (generic_decline)",)]
    stored = StripeEvent.objects.get()
    assert (stored.outcome, stored.order) == (StripeEvent.Outcome.APPLIED, order)


@pytest.mark.django_db
def test_the_shops_webhook_accepts_the_sandboxs_event_and_marks_the_order_paid(
    api, client, sandbox, receiver
):
    order = place(lines=[(WineFactory(stock=10, price="12.90").pk, 2)], customer=customer())
    total = to_minor_units(order.total, order.currency)
    params = session_params(
        client_reference_id=str(order.pk), metadata={"order_number": order.number}
    )
    params["line_items"] = [{**params["line_items"][0], "quantity": 1}]
    params["line_items"][0]["price_data"] = {
        **params["line_items"][0]["price_data"],
        "currency": order.currency.lower(),
        "unit_amount": total,
    }
    session = api.v1.checkout.sessions.create(params)
    post_form(session.url, {"action": "pay"})
    events(sandbox, receiver)

    response = forward_to_shop(client, receiver)

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert StripeEvent.objects.get().outcome == StripeEvent.Outcome.APPLIED


def test_decline_keeps_the_session_open_and_announces_the_failed_payment(api, sandbox, receiver):
    metadata = {"order_id": "17", "order_number": "W-2026-00017"}
    session = api.v1.checkout.sessions.create(
        session_params(payment_intent_data={"metadata": metadata})
    )

    status, _, page = post_form(session.url, {"action": "decline"})
    post_form(session.url, {"action": "decline"})
    post_form(session.url, {"action": "pay"})

    assert status == 402
    assert "Your card was declined." in page
    failed, again, paid = events(sandbox, receiver)
    assert [failed["type"], again["type"]] == ["payment_intent.payment_failed"] * 2
    intent = failed["data"]["object"]
    assert (intent["object"], intent["status"], intent["metadata"]) == (
        "payment_intent",
        "requires_payment_method",
        metadata,
    )
    assert (intent["amount"], intent["currency"]) == (7380, "eur")
    assert intent["last_payment_error"]["message"] == "Your card was declined."
    # One PaymentIntent for the session, from the first try to the payment.
    assert again["data"]["object"]["id"] == intent["id"]
    assert paid["data"]["object"]["payment_intent"] == intent["id"]


def test_payment_intent_data_takes_only_metadata(api, sandbox):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        api.v1.checkout.sessions.create(
            session_params(payment_intent_data={"capture_method": "manual"})
        )
    assert refused.value.param == "payment_intent_data[capture_method]"


def test_cancel_returns_to_cancel_url_and_keeps_the_session_open(api, sandbox, receiver):
    session = api.v1.checkout.sessions.create(session_params())

    status, headers, _ = post_form(session.url, {"action": "cancel"})

    assert (status, headers["Location"]) == (303, "http://shop.test/payment/canceled/W-2026-00017/")
    assert api.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert events(sandbox, receiver) == []


def test_expire_sends_an_expired_event_and_only_an_open_session_expires(api, sandbox, receiver):
    session = api.v1.checkout.sessions.create(session_params())

    expired = api.v1.checkout.sessions.expire(session.id)

    assert (expired.status, expired.payment_status, expired.url) == ("expired", "unpaid", None)
    [event] = events(sandbox, receiver)
    assert event["type"] == "checkout.session.expired"
    assert event["data"]["object"]["status"] == "expired"
    with pytest.raises(stripe.InvalidRequestError, match='status of "expired"'):
        api.v1.checkout.sessions.expire(session.id)
    [sent] = json.loads(get(sandbox.base_url + "/_sandbox/events")[2])
    assert (sent["event"]["id"], sent["delivery"]) == (event["id"], "200")


def test_a_session_expires_on_its_own_when_its_time_is_up(receiver):
    now = [time.time()]
    sandbox, thread = start_in_thread(
        webhook_url=receiver.url, secret=SECRET, clock=lambda: now[0], sweep_seconds=0.05
    )
    try:
        api = stripe.StripeClient("sk_test_sandbox", base_addresses={"api": sandbox.base_url})
        session = api.v1.checkout.sessions.create(session_params())
        now[0] += 3601
        until(lambda: receiver.posted, what="the expired session's event")
        [event] = events(sandbox, receiver)
        retrieved = api.v1.checkout.sessions.retrieve(session.id)
    finally:
        sandbox.stop()
        thread.join()

    assert event["type"] == "checkout.session.expired"
    assert event["data"]["object"]["id"] == session.id
    assert retrieved.status == "expired"


def test_page_shows_the_order_and_its_lines(api):
    session = api.v1.checkout.sessions.create(session_params())

    status, _, page = get(session.url)

    assert status == 200
    for text in (
        "W-2026-00017",
        "Château Lagrézette 2019",
        "€25.80",
        "€48.00",
        "€73.80",
        "camille@example.com",
    ):
        assert text in page
    assert 'value="pay"' in page


def test_paid_or_expired_session_shows_a_message_instead_of_the_buttons(api):
    paid = api.v1.checkout.sessions.create(session_params())
    post_form(paid.url, {"action": "pay"})
    expired = api.v1.checkout.sessions.create(session_params())
    api.v1.checkout.sessions.expire(expired.id)

    paid_page, expired_page = get(paid.url)[2], get(expired.url)[2]
    status, _, paying_again = post_form(paid.url, {"action": "pay"})

    assert "This order is paid" in paid_page
    assert "has expired" in expired_page
    assert status == 409
    assert all('value="pay"' not in page for page in (paid_page, expired_page, paying_again))


def test_unknown_page_is_a_404(sandbox):
    assert get(sandbox.base_url + "/pay/cs_test_unknown")[0] == 404


def test_a_restarted_sandbox_remembers_its_sessions(tmp_path):
    state = str(tmp_path / "stripe.json")
    first, thread = start_in_thread(secret=SECRET, state_path=state)
    params = session_params()
    created = stripe.StripeClient(
        "sk_test_sandbox", base_addresses={"api": first.base_url}
    ).v1.checkout.sessions.create(params, {"idempotency_key": "order-17-1"})
    first.stop()
    thread.join()

    second, thread = start_in_thread(secret=SECRET, state_path=state)
    try:
        api = stripe.StripeClient("sk_test_sandbox", base_addresses={"api": second.base_url})
        session = api.v1.checkout.sessions.retrieve(created.id)
        again = api.v1.checkout.sessions.create(params, {"idempotency_key": "order-17-1"})
    finally:
        second.stop()
        thread.join()

    assert (session.id, session.amount_total, session.status) == (created.id, 7380, "open")
    assert again.id == created.id


def test_command_refuses_to_run_unless_the_sandbox_is_allowed(settings):
    settings.STRIPE_SANDBOX_ALLOWED = False  # as in production, where DEBUG is off

    with pytest.raises(CommandError, match="development only"):
        call_command("stripe_sandbox", port=0)


def test_command_refuses_to_run_without_a_webhook_secret(settings):
    settings.STRIPE_SANDBOX_ALLOWED = True
    settings.STRIPE_WEBHOOK_SECRET = ""

    with pytest.raises(CommandError, match="STRIPE_WEBHOOK_SECRET"):
        call_command("stripe_sandbox", port=0)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_customer_is_declined_then_pays_on_the_hosted_page(api, sandbox, receiver):
    from playwright.sync_api import sync_playwright

    success_url = receiver.url + "/payment/completed/W-2026-00017/?session={CHECKOUT_SESSION_ID}"
    session = api.v1.checkout.sessions.create(session_params(success_url=success_url))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()
        page.goto(session.url)
        page.get_by_role("button", name="Decline").click()
        declined = page.get_by_role("alert").inner_text()
        page.get_by_role("button", name="Pay", exact=True).click()
        page.wait_for_url("**/payment/completed/**")
        landed = page.url
        browser.close()

    assert declined == "Your card was declined."
    assert landed.endswith(f"?session={session.id}")
    assert [e["type"] for e in events(sandbox, receiver)] == [
        "payment_intent.payment_failed",
        "checkout.session.completed",
    ]


def test_an_amount_off_coupon_discounts_the_session_and_shows_on_the_page(api, sandbox):
    coupon = api.v1.coupons.create(
        {"amount_off": 989, "currency": "eur", "duration": "once", "max_redemptions": 1}
    )
    session = api.v1.checkout.sessions.create(session_params(discounts=[{"coupon": coupon.id}]))
    assert (session.amount_subtotal, session.amount_total) == (7380, 6391)
    assert session.total_details.amount_discount == 989
    status, _, page = get(session.url)
    assert status == 200 and "Discount" in page and "−€9.89" in page and "€63.91" in page


def test_a_coupon_takes_a_total_to_zero_never_below(api):
    coupon = api.v1.coupons.create({"amount_off": 99_999, "currency": "eur"})
    session = api.v1.checkout.sessions.create(session_params(discounts=[{"coupon": coupon.id}]))
    assert session.amount_total == 0


def test_unknown_used_up_or_foreign_currency_coupons_are_refused(api, sandbox):
    with pytest.raises(stripe.InvalidRequestError, match="No such coupon"):
        api.v1.checkout.sessions.create(session_params(discounts=[{"coupon": "nope"}]))
    dollars = api.v1.coupons.create({"amount_off": 100, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError, match="currency"):
        api.v1.checkout.sessions.create(session_params(discounts=[{"coupon": dollars.id}]))
    once = api.v1.coupons.create({"amount_off": 100, "currency": "eur", "max_redemptions": 1})
    paid = api.v1.checkout.sessions.create(session_params(discounts=[{"coupon": once.id}]))
    post_form(f"{sandbox.base_url}/pay/{paid.id}", {"action": "pay"})
    with pytest.raises(stripe.InvalidRequestError, match="used up"):
        api.v1.checkout.sessions.create(session_params(discounts=[{"coupon": once.id}]))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"currency": "eur"}, "amount_off"),
        ({"amount_off": 0, "currency": "eur"}, "positive"),
        ({"amount_off": 10, "currency": "euro"}, "currency"),
        ({"amount_off": 10, "currency": "eur", "percent_of": 5}, "unknown parameter"),
        ({"amount_off": 10, "currency": "eur", "name": "x" * 41}, "40 characters"),
    ],
)
def test_bad_coupon_parameters_are_refused(api, params, match):
    with pytest.raises(stripe.InvalidRequestError, match=match):
        api.v1.coupons.create(params)


def test_latency_delays_every_api_answer_and_a_request_counts_on_arrival():
    slow, thread = start_in_thread(secret=SECRET, latency=0.5)
    try:
        impatient = stripe.StripeClient(
            "sk_test_sandbox",
            base_addresses={"api": slow.base_url},
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=0.1),
        )
        with pytest.raises(stripe.APIConnectionError):
            impatient.v1.checkout.sessions.create(session_params(), {"idempotency_key": "k-1"})
        [arrived] = json.loads(get(slow.base_url + "/_sandbox/requests")[2])
        slow.latency = 0
        patient = stripe.StripeClient("sk_test_sandbox", base_addresses={"api": slow.base_url})
        again = patient.v1.checkout.sessions.create(session_params(), {"idempotency_key": "k-1"})
        retrieved = patient.v1.checkout.sessions.retrieve(again.id)
    finally:
        slow.stop()
        thread.join()

    assert (arrived["method"], arrived["path"], arrived["status"]) == (
        "POST",
        "/v1/checkout/sessions",
        None,  # not answered yet
    )
    assert arrived["headers"]["Idempotency-Key"] == "k-1"
    assert retrieved.status == "open"


def test_expire_is_idempotent_by_key_and_refuses_an_unknown_session(api, sandbox, receiver):
    session = api.v1.checkout.sessions.create(session_params())

    expired = api.v1.checkout.sessions.expire(session.id, None, {"idempotency_key": "exp-1"})
    replayed = api.v1.checkout.sessions.expire(session.id, None, {"idempotency_key": "exp-1"})

    assert (expired.id, expired.status) == (replayed.id, replayed.status) == (session.id, "expired")
    assert [e["type"] for e in events(sandbox, receiver)] == ["checkout.session.expired"]
    with pytest.raises(stripe.InvalidRequestError) as raised:
        api.v1.checkout.sessions.expire("cs_test_unknown")
    assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")


# -- refunds ---------------------------------------------------------------------------------


def paid(api, sandbox, *, card: str = "") -> str:
    """Pay a session of €73.80 on its page, with the test card; return its payment intent."""
    session = api.v1.checkout.sessions.create(session_params())
    form = {"action": "pay", **({"card": card} if card else {})}
    assert post_form(session.url, form)[0] == 303
    return api.v1.checkout.sessions.retrieve(session.id).payment_intent


def control(sandbox, path: str, data: dict) -> tuple[int, dict]:
    status, _, text = post_form(sandbox.base_url + path, data)
    return status, json.loads(text)


def later(events: list[dict], since: int) -> list[str]:
    return [e["type"] for e in events[since:]]


def test_a_refund_succeeds_and_sends_refund_created_then_charge_refunded(api, sandbox, receiver):
    intent = paid(api, sandbox)

    refund = api.v1.refunds.create(
        {
            "payment_intent": intent,
            "amount": 1290,
            "reason": "requested_by_customer",
            "metadata": {"refund_id": "41", "order_number": "W-2026-00017"},
        },
        {"idempotency_key": "refund-41"},
    ).to_dict()

    assert refund["id"].startswith("re_") and refund["charge"].startswith("ch_")
    assert (refund["object"], refund["status"], refund["amount"], refund["currency"]) == (
        "refund",
        "succeeded",
        1290,
        "eur",
    )
    assert (refund["payment_intent"], refund["reason"]) == (intent, "requested_by_customer")
    assert refund["metadata"] == {"refund_id": "41", "order_number": "W-2026-00017"}
    assert "livemode" not in refund and "failure_reason" not in refund  # as Stripe's
    completed, created, refunded = events(sandbox, receiver)
    assert [completed["type"], created["type"], refunded["type"]] == [
        "checkout.session.completed",
        "refund.created",
        "charge.refunded",
    ]
    assert created["data"]["object"] == refund
    assert created["request"]["idempotency_key"] == "refund-41"
    assert created["request"]["id"].startswith("req_")
    charge = refunded["data"]["object"]
    assert (charge["object"], charge["id"], charge["payment_intent"]) == (
        "charge",
        refund["charge"],
        intent,
    )
    assert (charge["amount"], charge["amount_refunded"], charge["refunded"]) == (7380, 1290, False)
    assert refunded["data"]["previous_attributes"] == {"amount_refunded": 0, "refunded": False}


def test_a_refund_without_amount_takes_what_is_left_then_the_charge_is_refunded(
    api, sandbox, receiver
):
    intent = paid(api, sandbox)
    first = api.v1.refunds.create({"payment_intent": intent, "amount": 1290})

    rest = api.v1.refunds.create({"payment_intent": intent})

    assert rest.amount == 7380 - 1290
    charge = events(sandbox, receiver)[-1]["data"]["object"]
    assert (charge["amount_refunded"], charge["refunded"]) == (7380, True)
    assert api.v1.charges.retrieve(first.charge).to_dict() == charge
    with pytest.raises(stripe.InvalidRequestError) as raised:
        api.v1.refunds.create({"charge": first.charge, "amount": 1})
    assert (raised.value.http_status, raised.value.code) == (400, "charge_already_refunded")
    assert raised.value.user_message == f"Charge {first.charge} has already been refunded."


def test_refunding_more_than_is_left_is_refused_with_stripes_message(api, sandbox, receiver):
    intent = paid(api, sandbox)
    api.v1.refunds.create({"payment_intent": intent, "amount": 7000})
    sent = len(events(sandbox, receiver))

    with pytest.raises(stripe.InvalidRequestError) as raised:
        api.v1.refunds.create({"payment_intent": intent, "amount": 1000})

    error = raised.value
    assert (error.http_status, error.param, error.code) == (400, "amount", None)
    assert error.user_message == (
        "Refund amount (€10.00) is greater than unrefunded amount on charge (€3.80)"
    )
    assert len(events(sandbox, receiver)) == sent
    assert [r.amount for r in api.v1.refunds.list({"payment_intent": intent}).data] == [7000]


def test_the_same_idempotency_key_gives_one_refund(api, sandbox, receiver):
    intent = paid(api, sandbox)
    params = {"payment_intent": intent, "amount": 500, "metadata": {"refund_id": "3"}}

    first = api.v1.refunds.create(params, {"idempotency_key": "refund-3"})
    again = api.v1.refunds.create(params, {"idempotency_key": "refund-3"})

    assert again.id == first.id
    assert [r.id for r in api.v1.refunds.list({"payment_intent": intent}).data] == [first.id]
    assert later(events(sandbox, receiver), 1) == ["refund.created", "charge.refunded"]
    with pytest.raises(stripe.IdempotencyError):
        api.v1.refunds.create({**params, "amount": 600}, {"idempotency_key": "refund-3"})


@pytest.mark.parametrize(
    ("params", "param", "message"),
    [
        (
            {"amount": 100},
            None,
            "One of the following params should be provided for this request: payment_intent "
            "or charge.",
        ),
        ({"amount": 0}, "amount", "This value must be greater than or equal to 1."),
        ({"amount": "ten"}, "amount", "Invalid integer: ten"),
        (
            {"reason": "changed_mind"},
            "reason",
            "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
        ),
        ({"currency": "eur"}, "currency", "Received unknown parameter: currency"),
        ({"metadata": {"refund_id": "x" * 501}}, "metadata[refund_id]", "Invalid metadata"),
        ({"charge": "ch_other"}, "payment_intent", "not both"),
    ],
)
def test_bad_refund_parameters_are_refused_and_refund_nothing(
    api, sandbox, receiver, params, param, message
):
    intent = paid(api, sandbox)
    named = {"payment_intent": intent} if params != {"amount": 100} else {}

    with pytest.raises(stripe.InvalidRequestError) as raised:
        api.v1.refunds.create({**named, **params})

    assert (raised.value.http_status, raised.value.param) == (400, param)
    assert message in raised.value.user_message
    assert later(events(sandbox, receiver), 1) == []


def test_unknown_payments_charges_and_refunds_are_stripe_404s(api):
    for call in (
        lambda: api.v1.refunds.create({"payment_intent": "pi_unknown"}),
        lambda: api.v1.refunds.create({"charge": "ch_unknown"}),
        lambda: api.v1.refunds.retrieve("re_unknown"),
        lambda: api.v1.refunds.list({"payment_intent": "pi_unknown"}),
        lambda: api.v1.charges.retrieve("ch_unknown"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            call()
        assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")
    assert raised.value.user_message == "No such charge: 'ch_unknown'"


def test_refunds_are_retrieved_and_listed_newest_first_a_page_at_a_time(api, sandbox):
    intent, other = paid(api, sandbox), paid(api, sandbox)
    first = api.v1.refunds.create({"payment_intent": intent, "amount": 100})
    second = api.v1.refunds.create({"charge": first.charge, "amount": 200})
    api.v1.refunds.create({"payment_intent": other, "amount": 300})

    page = api.v1.refunds.list({"payment_intent": intent, "limit": 1})
    rest = api.v1.refunds.list({"payment_intent": intent, "starting_after": page.data[0].id})

    assert api.v1.refunds.retrieve(first.id).to_dict() == first.to_dict()
    assert ([r.id for r in page.data], page.has_more) == ([second.id], True)
    assert ([r.id for r in rest.data], rest.has_more) == ([first.id], False)
    by_charge = api.v1.refunds.list({"charge": first.charge})
    assert [r.amount for r in by_charge.data] == [200, 100]
    assert [r.amount for r in api.v1.refunds.list().data] == [300, 200, 100]


def test_card_7726s_refunds_are_pending_then_succeed_on_their_own(receiver):
    now = [time.time()]
    sandbox, thread = start_in_thread(
        webhook_url=receiver.url, secret=SECRET, clock=lambda: now[0], sweep_seconds=0.05
    )
    try:
        api = stripe.StripeClient("sk_test_sandbox", base_addresses={"api": sandbox.base_url})
        intent = paid(api, sandbox, card=REFUND_PENDING)
        refund = api.v1.refunds.create({"payment_intent": intent, "amount": 2000})
        pending = api.v1.charges.retrieve(refund.charge)
        assert later(events(sandbox, receiver), 1) == ["refund.created"]
        now[0] += SETTLE_SECONDS + 1
        until(lambda: len(receiver.posted) >= 4, what="the settled refund's events")
        sent = events(sandbox, receiver)
        settled = api.v1.refunds.retrieve(refund.id)
    finally:
        sandbox.stop()
        thread.join()

    assert (refund.status, refund.pending_reason) == ("pending", "processing")
    assert pending.amount_refunded == 0  # a pending refund has refunded nothing yet
    assert later(sent, 2) == ["refund.updated", "charge.refunded"]
    updated, refunded = sent[2]["data"], sent[3]["data"]
    assert updated["object"]["status"] == "succeeded"
    assert "pending_reason" not in updated["object"]
    assert updated["previous_attributes"] == {"status": "pending", "pending_reason": "processing"}
    assert refunded["object"]["amount_refunded"] == 2000
    assert sent[2]["request"] == {"id": None, "idempotency_key": None}
    assert settled.status == "succeeded"


def test_card_5126s_refunds_succeed_then_fail_when_settled(api, sandbox, receiver):
    intent = paid(api, sandbox, card=REFUND_FAILS)
    refund = api.v1.refunds.create({"payment_intent": intent, "amount": 7380})
    assert api.v1.refunds.retrieve(refund.id).status == "succeeded"  # until Stripe says more

    assert control(sandbox, "/_sandbox/refunds/settle", {}) == (200, {"settled": 1})

    sent = events(sandbox, receiver)
    assert later(sent, 1) == [
        "refund.created",
        "charge.refunded",
        "refund.updated",
        "refund.failed",
    ]
    assert refund.status == "succeeded"
    assert sent[2]["data"]["object"]["amount_refunded"] == 7380
    updated, failed = sent[3]["data"], sent[4]["data"]["object"]
    assert updated["object"] == failed
    assert (failed["id"], failed["status"], failed["failure_reason"]) == (
        refund.id,
        "failed",
        "expired_or_canceled_card",
    )
    assert failed["failure_balance_transaction"].startswith("txn_")
    assert updated["previous_attributes"]["status"] == "succeeded"
    fetched = api.v1.refunds.retrieve(refund.id)
    assert (fetched.status, fetched.failure_reason) == ("failed", "expired_or_canceled_card")
    charge = api.v1.charges.retrieve(refund.charge)
    assert (charge.amount_refunded, charge.refunded) == (0, False)  # the money is back
    assert control(sandbox, "/_sandbox/refunds/settle", {}) == (200, {"settled": 0})
    assert api.v1.refunds.create({"payment_intent": intent}).amount == 7380  # may try again


def test_a_refund_due_to_change_changes_when_it_is_next_read(receiver):
    now = [time.time()]
    sandbox, thread = start_in_thread(
        webhook_url=receiver.url, secret=SECRET, clock=lambda: now[0], sweep_seconds=3600
    )
    try:
        api = stripe.StripeClient("sk_test_sandbox", base_addresses={"api": sandbox.base_url})
        refund = api.v1.refunds.create({"payment_intent": paid(api, sandbox, card=REFUND_FAILS)})
        now[0] += SETTLE_SECONDS + 1
        fetched = api.v1.refunds.retrieve(refund.id)
        sent = events(sandbox, receiver)
    finally:
        sandbox.stop()
        thread.join()

    assert (refund.status, fetched.status) == ("succeeded", "failed")
    assert later(sent, 3) == ["refund.updated", "refund.failed"]


def test_card_0259s_payment_is_disputed_and_cannot_be_refunded(api, sandbox, receiver):
    intent = paid(api, sandbox, card=DISPUTED)

    completed, disputed = events(sandbox, receiver)

    assert (completed["type"], disputed["type"]) == (
        "checkout.session.completed",
        "charge.dispute.created",
    )
    dispute = disputed["data"]["object"]
    assert dispute["id"].startswith("dp_") and dispute["charge"].startswith("ch_")
    assert (dispute["object"], dispute["payment_intent"], dispute["amount"]) == (
        "dispute",
        intent,
        7380,
    )
    assert (dispute["reason"], dispute["status"]) == ("fraudulent", "needs_response")
    with pytest.raises(stripe.InvalidRequestError) as raised:
        api.v1.refunds.create({"payment_intent": intent, "amount": 100})
    assert raised.value.code == "charge_disputed"
    assert raised.value.user_message == (
        f"Charge {dispute['charge']} has been charged back; cannot issue a refund."
    )
    assert api.v1.charges.retrieve(dispute["charge"]).disputed is True


def test_a_dashboard_refund_names_no_request_or_refund_of_ours(api, sandbox, receiver):
    intent = paid(api, sandbox)
    sandbox.store.clear_requests()

    status, refund = control(
        sandbox, "/_sandbox/refunds", {"payment_intent": intent, "amount": 500}
    )

    assert status == 200
    assert (refund["object"], refund["amount"], refund["metadata"]) == ("refund", 500, {})
    created, refunded = events(sandbox, receiver)[1:]
    assert (created["type"], created["data"]["object"]) == ("refund.created", refund)
    assert created["request"] == {"id": None, "idempotency_key": None}
    assert (refunded["type"], refunded["data"]["object"]["amount_refunded"]) == (
        "charge.refunded",
        500,
    )
    assert sandbox.store.requests() == []  # not a call to Stripe's API
    assert api.v1.refunds.retrieve(refund["id"]).amount == 500
    status, error = control(
        sandbox, "/_sandbox/refunds", {"payment_intent": intent, "amount": 7000}
    )
    assert (status, error["error"]["param"]) == (400, "amount")


def test_a_payment_made_outside_checkout_is_refunded_like_any_other(api, sandbox, receiver):
    status, charge = control(
        sandbox,
        "/_sandbox/payments",
        {"amount": 2580, "currency": "eur", "payment_intent": "pi_sent_by_a_test_0001"},
    )

    assert status == 200
    assert (charge["object"], charge["payment_intent"], charge["amount"]) == (
        "charge",
        "pi_sent_by_a_test_0001",
        2580,
    )
    assert (charge["status"], charge["paid"], charge["amount_refunded"]) == ("succeeded", True, 0)
    assert charge["payment_method_details"]["card"]["last4"] == "4242"
    refund = api.v1.refunds.create({"payment_intent": "pi_sent_by_a_test_0001"})
    assert (refund.amount, refund.charge) == (2580, charge["id"])
    assert [e["type"] for e in events(sandbox, receiver)] == ["refund.created", "charge.refunded"]
    again = control(
        sandbox, "/_sandbox/payments", {"amount": 1, "payment_intent": charge["payment_intent"]}
    )
    assert again[0] == 400
    assert (
        control(sandbox, "/_sandbox/payments", {"amount": 1, "card": "4000000000000000"})[0] == 400
    )
    assert control(sandbox, "/_sandbox/payments", {"amount": 0})[0] == 400


def test_the_page_offers_the_test_cards_and_refuses_others(api, sandbox, receiver):
    session = api.v1.checkout.sessions.create(session_params())

    page = get(session.url)[2]
    status, _, refused = post_form(session.url, {"action": "pay", "card": "4000000000000000"})

    assert all(f'value="{card}"' in page for card in (REFUND_PENDING, REFUND_FAILS, DISPUTED))
    assert status == 400
    assert "This is not one of the sandbox&#x27;s test cards." in refused
    assert api.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert events(sandbox, receiver) == []


def test_a_restarted_sandbox_remembers_payments_and_refunds(tmp_path):
    state = str(tmp_path / "stripe.json")
    first, thread = start_in_thread(secret=SECRET, state_path=state)
    api = stripe.StripeClient("sk_test_sandbox", base_addresses={"api": first.base_url})
    intent = paid(api, first, card=REFUND_FAILS)
    params = {"payment_intent": intent, "amount": 1000}
    refund = api.v1.refunds.create(params, {"idempotency_key": "refund-9"})
    first.stop()
    thread.join()

    second, thread = start_in_thread(secret=SECRET, state_path=state)
    try:
        api = stripe.StripeClient("sk_test_sandbox", base_addresses={"api": second.base_url})
        again = api.v1.refunds.create(params, {"idempotency_key": "refund-9"})
        settled = second.store.settle_refunds()
        failed = api.v1.refunds.retrieve(refund.id)
        charge = api.v1.charges.retrieve(refund.charge)
    finally:
        second.stop()
        thread.join()

    assert again.id == refund.id
    assert (settled, failed.status) == (1, "failed")
    assert (charge.amount, charge.amount_refunded) == (7380, 0)


def test_the_factories_shape_refunds_charges_and_disputes_as_the_sandbox_sends_them(
    api, sandbox, receiver
):
    intent = paid(api, sandbox, card=DISPUTED)
    sandbox_charge = api.v1.charges.retrieve(
        events(sandbox, receiver)[1]["data"]["object"]["charge"]
    )
    other = paid(api, sandbox)
    api.v1.refunds.create({"payment_intent": other, "amount": 1290, "metadata": {"refund_id": "4"}})
    sent = {e["type"]: e["data"]["object"] for e in events(sandbox, receiver)}
    order = OrderFactory.build(total=Decimal("73.80"), payment_intent=other)

    refund = factories.refund_object(order, amount_minor=1290, refund_id=4)
    charge = factories.charge_object(order, amount_refunded=1290)
    dispute = factories.dispute_object(order, payment_intent=intent)

    assert set(refund) == set(sent["refund.created"])
    assert refund["metadata"] == {"refund_id": "4", "order_number": order.number}
    assert factories.refund_object(order)["metadata"] == {}  # as from Stripe's dashboard
    for key in ("amount", "currency", "payment_intent", "status"):
        assert refund[key] == sent["refund.created"][key]
    assert set(charge) == set(sent["charge.refunded"])
    for key in ("amount", "currency", "payment_intent", "amount_refunded", "refunded"):
        assert charge[key] == sent["charge.refunded"][key]
    assert factories.charge_object(order, amount_refunded=7380)["refunded"] is True
    assert set(dispute) == set(sent["charge.dispute.created"])
    assert sandbox_charge.payment_intent == dispute["payment_intent"]
    failed = factories.refund_object(order, status="failed")
    assert (failed["status"], failed["failure_reason"]) == ("failed", "expired_or_canceled_card")


def shipping(amount=990, currency="eur", **data) -> dict:
    rate = {"type": "fixed_amount", "display_name": "Delivery to France"} | data
    return {"shipping_rate_data": rate | {"fixed_amount": {"amount": amount, "currency": currency}}}


def test_a_shipping_rate_is_charged_on_top_of_the_discounted_items(api):
    coupon = api.v1.coupons.create({"amount_off": 989, "currency": "eur"})
    session = api.v1.checkout.sessions.create(
        session_params(discounts=[{"coupon": coupon.id}], shipping_options=[shipping()])
    )
    assert (session.amount_subtotal, session.amount_total) == (7380, 7380 - 989 + 990)
    assert session.total_details.amount_shipping == 990
    assert session.shipping_cost.amount_total == 990
    assert session.shipping_cost.shipping_rate.startswith("shr_")


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ([shipping()] * 6, "up to 5 shipping options"),
        ([{"shipping_rate": "shr_x", **shipping()}], "exactly one of"),
        ([{"shipping_rate": "shr_nope"}], "No such shipping rate"),
        ([shipping(type="delivery_estimate")], "fixed_amount"),
        ([shipping(amount=-1)], "greater than or equal to 0"),
        ([shipping(currency="usd")], "currency"),
        ([shipping(display_name="")], "display_name"),
    ],
)
def test_bad_shipping_options_are_refused_as_stripe_does(api, options, match):
    with pytest.raises(stripe.InvalidRequestError, match=match):
        api.v1.checkout.sessions.create(session_params(shipping_options=options))


def test_the_checkout_page_speaks_a_stripe_locale_and_refuses_another(api):
    session = api.v1.checkout.sessions.create(session_params(locale="fr"))
    assert session.locale == "fr"

    with pytest.raises(stripe.InvalidRequestError) as raised:
        api.v1.checkout.sessions.create(session_params(locale="klingon"))
    assert raised.value.param == "locale"
