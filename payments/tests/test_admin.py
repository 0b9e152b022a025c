import pytest
from django.urls import reverse

from orders.tests.factories import OrderFactory
from payments.models import StripeEvent
from payments.tests.factories import checkout_session, event

pytestmark = pytest.mark.django_db


def test_stripe_events_are_listed_read_only_with_their_outcome(admin_client):
    order = OrderFactory()
    payload = event("checkout.session.completed", checkout_session(order))
    stored = StripeEvent.objects.create(
        event_id=payload["id"],
        type=payload["type"],
        payload=payload,
        order=order,
        outcome=StripeEvent.Outcome.FLAGGED,
    )
    listing = admin_client.get(reverse("admin:payments_stripeevent_changelist"))
    assert "Flagged for staff" in listing.content.decode()
    detail = admin_client.get(reverse("admin:payments_stripeevent_change", args=[stored.pk]))
    assert detail.status_code == 200
    assert payload["id"] in detail.content.decode()
    assert admin_client.get(reverse("admin:payments_stripeevent_add")).status_code == 403
