"""The order page as the back office composes it: the invoice's link, download and regeneration."""

import pytest
from django.urls import reverse

from orders.models import Order
from orders.tests.factories import OrderFactory
from reports.models import Invoice
from reports.services import credit_note_ensure, invoice_ensure
from reports.tests.factories import paid_order, succeeded_refund

pytestmark = pytest.mark.django_db

ORDERS = reverse("admin:orders_order_changelist")


def test_orders_list_links_each_invoice(admin_client):
    invoice = invoice_ensure(order_id=paid_order().pk)
    OrderFactory(status=Order.Status.PENDING)
    content = admin_client.get(ORDERS).content.decode()
    assert reverse("reports:invoice_download", args=[invoice.pk]) in content
    assert invoice.number in content


def test_order_page_has_a_download_invoice_button(admin_client):
    order = paid_order()
    change = reverse("admin:orders_order_change", args=[order.pk])
    button = reverse("admin:orders_order_download_invoice", args=[order.pk])
    assert button in admin_client.get(change).content.decode()
    assert admin_client.get(button).url == change  # no invoice yet
    invoice = invoice_ensure(order_id=order.pk)
    response = admin_client.get(button)
    assert response.url == reverse("reports:invoice_download", args=[invoice.pk])
    assert invoice.number in admin_client.get(change).content.decode()


def test_regenerate_action_keeps_numbers_and_skips_unpaid_orders(admin_client):
    paid = paid_order()
    number = invoice_ensure(order_id=paid.pk).number
    fresh = paid_order()  # paid, invoice not made yet
    pending = OrderFactory(status=Order.Status.PENDING)
    response = admin_client.post(
        ORDERS,
        {"action": "regenerate_invoices", "_selected_action": [paid.pk, fresh.pk, pending.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert Invoice.objects.get(order=paid).number == number
    assert Invoice.objects.get(order=fresh).sequence == 2
    assert not Invoice.objects.filter(order=pending).exists()
    assert "has not been paid" in response.content.decode()


def test_order_page_links_its_credit_notes(admin_client):
    order = paid_order()
    change = reverse("admin:orders_order_change", args=[order.pk])
    notes = [credit_note_ensure(refund_id=succeeded_refund(order).pk) for _ in range(2)]
    page = admin_client.get(change).content.decode()
    for note in notes:
        assert reverse("reports:credit_note_download", args=[note.pk]) in page
        assert note.number in page


def test_the_order_search_finds_an_order_by_its_invoice_number(admin_client):
    invoiced, other = paid_order(), paid_order()
    number = invoice_ensure(order_id=invoiced.pk).number
    invoice_ensure(order_id=other.pk)
    OrderFactory(status=Order.Status.PENDING)  # no invoice
    listed = admin_client.get(ORDERS, {"q": number.lower()}).context["cl"].result_list
    assert [order.pk for order in listed] == [invoiced.pk]
