"""Hostile input for the fuzz tests of the webhook and the payment pages, and what such input
must leave as it was."""

from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from orders.models import Order, OrderEmail, OrderEvent
from payments.models import StripeEvent
from shop.models import Wine

examples = hsettings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def written() -> tuple:
    """Return what a request that is refused must leave as it was: Stripe events, orders, their
    timelines and emails, the stock."""
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
