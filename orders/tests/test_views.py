from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import Order
from orders.tests.factories import CHECKOUT_FIELDS
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db

# What a header injection or a split CSV row is made of (NUL is refused by every form field).
CONTROLS = ["\r\nBcc:", "\n", "\x1b[31m", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("field", sorted(CHECKOUT_FIELDS))
@pytest.mark.parametrize("control", CONTROLS)
def test_checkout_refuses_control_characters_in_any_field(client, field, control):
    wine = WineFactory(stock=5, price=Decimal("12.50"))
    client.post(reverse("shop:cart_add", args=[wine.pk]), {"quantity": 1})
    value = CHECKOUT_FIELDS[field]
    posted = {**CHECKOUT_FIELDS, field: value[:3] + control + value[3:], "expected_total": "12.50"}

    response = client.post(reverse("orders:checkout"), posted)

    assert response.status_code == 200
    assert not Order.objects.exists()
    form = response.context["form"]
    if field == "email":  # the address's own check speaks first
        assert field in form.errors
    else:
        assert form.has_error(field, "control_characters")
        assert "without line breaks or control characters" in response.content.decode()
