"""Stripe delivering every event twice and in any order: each order ends in the right state,
paid once, and the books still add up."""

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from backoffice.books import books_check
from coupons.tests.factories import CouponFactory
from orders.models import Order, OrderEmail
from payments.tests.factories import out_of_order_deliveries, signed
from shop.models import Wine
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db

STOCK = 10


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.permutations(range(10)))
def test_every_event_twice_in_any_order_pays_each_order_once(order):
    coupon = CouponFactory()
    wine = WineFactory(stock=STOCK)
    expected, deliveries = out_of_order_deliveries(wine_id=wine.pk, coupon_code=coupon.code)
    client = Client()

    for index in order:
        body, headers = signed(deliveries[index])
        response = client.post(
            reverse("payments:webhook"), body, content_type="application/json", **headers
        )
        assert response.status_code == 200

    assert {pk: Order.objects.get(pk=pk).status for pk in expected} == expected
    for pk, status in expected.items():
        payment_emails = OrderEmail.objects.filter(order=pk, kind=OrderEmail.Kind.PAYMENT)
        assert payment_emails.count() == (status == Order.Status.PAID)
    assert not Order.objects.filter(pk__in=expected, payment_flagged=True).exists()
    coupon.refresh_from_db()
    assert coupon.uses == 1  # the retried order's; the lapsed one gave its use back
    initial = dict.fromkeys(Wine.objects.values_list("pk", flat=True), STOCK)
    checks = books_check(initial_stock=initial, emails_sent=False)
    assert [check.wrong for check in checks] == [[]] * len(checks)
