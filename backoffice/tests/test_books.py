from decimal import Decimal

import pytest

from backoffice.books import books_check, books_stripe_check, discrepancies
from orders.models import Order, OrderEvent, OrderItem
from orders.refunds import RefundLineRequest, refund_fail, refund_request, refund_succeed
from orders.tests.factories import customer, france_zone, pay, place
from payments.refunds import refund_submit
from payments.tests.sandbox import paid_order, running_sandbox, sandbox_dashboard_refund
from shop.models import Wine
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db


def test_the_books_add_up_after_a_sale_and_name_an_order_paid_twice(
    django_capture_on_commit_callbacks,
):
    wine = WineFactory(stock=10)
    with django_capture_on_commit_callbacks(execute=True):
        order = pay(place(lines=[(wine.pk, 2)], customer=customer()))
    assert discrepancies(books_check(initial_stock={wine.pk: 10})) == 0

    OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.PAYMENT,
        from_status=Order.Status.PENDING,
        to_status=Order.Status.PAID,
    )
    checks = books_check(initial_stock={wine.pk: 10})
    assert [(check.name, check.wrong) for check in checks if not check.ok] == [
        ("payments", [f"{order.number} (paid) paid 2 times"])
    ]


def test_the_books_count_the_delivery_in_what_the_customer_paid(
    django_capture_on_commit_callbacks,
):
    wine = WineFactory(stock=10)
    france_zone(price="9.90")
    with django_capture_on_commit_callbacks(execute=True):
        order = pay(place(lines=[(wine.pk, 2)], customer=customer()))
    assert order.delivery_charge == Decimal("9.90")
    checks = books_check(initial_stock={wine.pk: 10})
    assert discrepancies(checks) == 0, [check.wrong for check in checks]
    assert "+ delivery" in checks[0].what


def test_the_books_add_up_after_refunds_and_name_a_refund_miscounted(
    django_capture_on_commit_callbacks,
):
    wine = WineFactory(stock=10)
    with django_capture_on_commit_callbacks(execute=True):
        order = pay(place(lines=[(wine.pk, 3)], customer=customer()))
    item = order.items.get()
    returned = refund_request(
        order_id=order.pk,
        lines=[RefundLineRequest(item.pk, 1, restock=True)],
        reason="returned",
        actor=None,
    )
    with django_capture_on_commit_callbacks(execute=True):  # the refund email goes
        refund_succeed(refund_id=returned.pk)
    declined = refund_request(
        order_id=order.pk, lines=[RefundLineRequest(item.pk, 2)], reason="", actor=None
    )
    refund_fail(refund_id=declined.pk, reason="declined")
    refund_request(order_id=order.pk, amount=Decimal("1.00"), reason="", actor=None)
    assert Wine.objects.get(pk=wine.pk).stock == 8  # 3 sold, 1 back on sale
    checks = books_check(initial_stock={wine.pk: 10})
    assert discrepancies(checks) == 0, [check.wrong for check in checks]

    Order.objects.filter(pk=order.pk).update(refunded_amount=Decimal("0.00"))
    OrderItem.objects.filter(pk=item.pk).update(restocked_quantity=0)
    checks = books_check(initial_stock={wine.pk: 10})
    assert [(check.name, check.wrong) for check in checks if not check.ok] == [
        ("stock", [f"wine #{wine.pk}: 2 bottles gone, orders hold 3"]),
        (
            "refunds",
            [
                f"{order.number}: refunds 13.50 committed and 0.00 refunded, its refunds "
                "13.50 and 12.50",
                f"{order.number}: line {item.pk} has 1 bottles refunded and 0 restocked, its "
                "refund lines 1 and 1",
            ],
        ),
    ]


def test_the_stripe_check_names_an_order_whose_refunds_stripe_does_not_agree_with(settings):
    with running_sandbox(settings) as sandbox:
        order = paid_order(sandbox)
        refund = refund_request(order_id=order.pk, amount=Decimal("5.00"), reason="", actor=None)
        refund_submit(refund_id=refund.pk)
        other = paid_order(sandbox)
        assert books_stripe_check().wrong == []

        sandbox_dashboard_refund(sandbox, payment_intent=other.payment_intent, amount_minor=300)

        check = books_stripe_check()
    assert check.checked == 2
    assert check.wrong == [f"{other.number}: 0.00 refunded here, 3.00 at Stripe"]


def test_the_stripe_check_of_some_orders_asks_stripe_about_those_only(settings):
    with running_sandbox(settings) as sandbox:
        order, other = paid_order(sandbox), paid_order(sandbox)
        sandbox_dashboard_refund(sandbox, payment_intent=other.payment_intent, amount_minor=300)

        check = books_stripe_check(order_ids=[order.pk])
    assert check.checked == 1
    assert check.wrong == []
