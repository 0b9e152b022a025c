"""Whatever reaches the webhook or the payment pages: an answer, never a 500, and nothing
written unless Stripe signed it."""

import json
import time

import pytest
import stripe
from django.conf import settings
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from backoffice.books import books_check
from orders.models import Order, OrderEmail, OrderEvent
from orders.services import order_place
from orders.tests.factories import customer
from orders.views import PLACED_ORDERS_KEY
from payments.models import StripeEvent
from payments.services import PAID_TYPES, UNPAID_TYPES
from payments.tests.factories import checkout_session, event, signed
from shop.models import Wine
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db

examples = hsettings(suppress_health_check=[HealthCheck.function_scoped_fixture])
STOCK = 10


@pytest.fixture
def order():
    return order_place(lines=[(WineFactory(stock=STOCK).pk, 2)], customer=customer())


def written() -> tuple:
    return (
        StripeEvent.objects.count(),
        list(Order.objects.values_list("status", "payment_flagged", "stripe_session_id")),
        OrderEvent.objects.count(),
        OrderEmail.objects.count(),
        list(Wine.objects.values_list("stock", flat=True)),
    )


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=15,
)
SESSION_FIELDS = ["id", "client_reference_id", "metadata", "payment_status", "status"]
SESSION_FIELDS += ["amount_total", "currency", "payment_intent"]
TYPES = sorted(PAID_TYPES | UNPAID_TYPES | {"charge.refunded", "customer.created"})


def junk_session(order_pk: int):
    """Checkout Sessions with any value in any field, some naming the order."""
    values = JSON | st.just(str(order_pk)) | st.just({"order_number": "WS-0000-0000"})
    values |= st.sampled_from(["paid", "unpaid", "eur", "EUR", "pi_1", "x" * 300])
    return st.dictionaries(st.sampled_from(SESSION_FIELDS), values, max_size=8)


def signature_headers(body: str):
    secret = settings.STRIPE_WEBHOOK_SECRET
    stale = int(time.time()) - 3600
    return st.one_of(
        st.none(),
        st.text(max_size=80),
        st.builds(lambda t, v: f"t={t},v1={v}", st.integers(), st.text("0123456789abcdef")),
        st.just(stripe.WebhookSignature.generate_signature_header(body, "whsec_other")),
        st.just(stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=stale)),
        st.just(stripe.WebhookSignature.generate_signature_header(body + " ", secret)),
    )


BODIES = st.one_of(
    st.binary(max_size=120).map(lambda raw: raw.decode("latin-1")),
    st.text(max_size=120),
    JSON.map(json.dumps),
)
CONTENT_TYPES = st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)


@examples
@given(data=st.data())
def test_webhook_refuses_what_stripe_did_not_sign_and_writes_nothing(client, order, data):
    real = json.dumps(event("checkout.session.completed", checkout_session(order)))
    body = data.draw(BODIES | st.just(real), label="body")
    header = data.draw(signature_headers(body), label="Stripe-Signature")
    headers = {} if header is None else {"HTTP_STRIPE_SIGNATURE": header}
    before = written()

    response = client.post(
        reverse("payments:webhook"), body, content_type=data.draw(CONTENT_TYPES), **headers
    )

    assert response.status_code == 400
    assert written() == before


@examples
@given(data=st.data())
def test_webhook_answers_any_signed_event_and_the_books_still_add_up(client, order, data):
    payload = data.draw(
        JSON
        | st.fixed_dictionaries(
            {
                "id": st.text(max_size=300),
                "type": st.sampled_from(TYPES) | st.text(max_size=120),
                "data": st.fixed_dictionaries({"object": junk_session(order.pk)}),
                # The tests' key is the sandbox's: its events say false; anything else is refused.
                "livemode": st.just(False) | JSON,
            },
        ),
        label="event",
    )
    body, headers = signed(payload)
    before = StripeEvent.objects.count()

    response = client.post(reverse("payments:webhook"), body, "application/json", **headers)

    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert StripeEvent.objects.count() == before
    initial = dict.fromkeys(Wine.objects.values_list("pk", flat=True), STOCK)
    checks = books_check(initial_stock=initial, emails_sent=False)
    assert [check.wrong for check in checks] == [[]] * len(checks)


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
