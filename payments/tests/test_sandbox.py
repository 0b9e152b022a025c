"""The offline Stripe sandbox, driven by the real SDK and by posts to its hosted page."""

import http.client
import json
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode, urlsplit

import pytest
import stripe
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse

from core.money import to_minor_units
from orders.models import Order
from orders.services import order_place
from orders.tests.factories import customer
from payments.models import StripeEvent
from payments.sandbox import start_in_thread
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


@pytest.mark.django_db
def test_the_shops_webhook_accepts_the_sandboxs_event_and_marks_the_order_paid(
    api, client, sandbox, receiver, django_capture_on_commit_callbacks
):
    order = order_place(lines=[(WineFactory(stock=10, price="12.90").pk, 2)], customer=customer())
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
    [(body, headers)] = receiver.posted

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("payments:webhook"),
            body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"],
        )

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert StripeEvent.objects.get().outcome == StripeEvent.Outcome.APPLIED


def test_decline_keeps_the_session_open_and_sends_no_event(api, sandbox, receiver):
    session = api.v1.checkout.sessions.create(session_params())

    status, _, page = post_form(session.url, {"action": "decline"})

    assert status == 402
    assert "Your card was declined." in page
    assert api.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert events(sandbox, receiver) == []


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
        deadline = time.monotonic() + 5
        while not receiver.posted and time.monotonic() < deadline:
            time.sleep(0.02)
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
    assert [e["type"] for e in events(sandbox, receiver)] == ["checkout.session.completed"]


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
