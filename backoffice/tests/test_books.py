import pytest

from backoffice.books import books_check, discrepancies
from orders.models import Order, OrderEvent
from orders.services import order_place
from orders.tests.factories import customer, pay
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db


def test_the_books_add_up_after_a_sale_and_name_an_order_paid_twice(
    django_capture_on_commit_callbacks,
):
    wine = WineFactory(stock=10)
    with django_capture_on_commit_callbacks(execute=True):
        order = pay(order_place(lines=[(wine.pk, 2)], customer=customer()))
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
