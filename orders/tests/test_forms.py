from decimal import Decimal

import pytest

from orders.forms import CancelRefundForm, ConfirmationInput, RefundForm, RefundLinesForm
from orders.refunds import RefundLineRequest
from orders.tests.factories import paid_order

pytestmark = pytest.mark.django_db


def built(form_class, data, order, left=None):
    items = list(order.items.order_by("pk"))
    left = left if left is not None else {item.pk: item.refundable_quantity for item in items}
    return form_class(data, items=items, left=left), items


def test_the_refund_form_gives_the_lines_with_bottles_to_the_services():
    order = paid_order(("12.50", 3), ("20.00", 2))
    first, second = order.items.order_by("pk")
    data = {f"quantity_{first.pk}": "2", f"restock_{first.pk}": "on", "reason": "corked"}
    data[f"quantity_{second.pk}"] = "0"
    form, _ = built(RefundForm, data, order)
    assert form.is_valid(), form.errors
    assert form.lines() == [RefundLineRequest(item_id=first.pk, quantity=2, restock=True)]
    assert form.cleaned_data["amount"] is None


def test_a_line_takes_no_more_than_its_bottles_left_and_none_below_zero():
    order = paid_order(("12.50", 3))
    item = order.items.get()
    for quantity in ["-1", "3", "x"]:
        form, _ = built(
            RefundForm, {f"quantity_{item.pk}": quantity, "reason": "r"}, order, {item.pk: 2}
        )
        assert f"quantity_{item.pk}" in form.errors


def test_a_line_with_nothing_left_has_no_field():
    order = paid_order(("12.50", 3), ("20.00", 2))
    first, second = order.items.order_by("pk")
    form, _ = built(RefundLinesForm, {}, order, {first.pk: 0, second.pk: 2})
    assert [row[0] for row in form.rows()] == [second]
    assert f"quantity_{first.pk}" not in form.fields


def test_the_refund_form_asks_for_bottles_or_an_amount_and_a_reason():
    order = paid_order(("12.50", 3))
    form, _ = built(RefundForm, {"reason": "r"}, order)
    assert form.non_field_errors() == ["Choose the bottles to refund, or an amount."]
    form, _ = built(RefundForm, {"amount": "5"}, order)
    assert "reason" in form.errors
    form, _ = built(RefundForm, {"amount": "5", "reason": "late"}, order)
    assert form.is_valid() and form.cleaned_data["amount"] == Decimal("5")
    assert form.lines() == []


def test_an_amount_of_nothing_or_less_is_refused():
    order = paid_order(("12.50", 3))
    for amount in ["0", "-5", "0.001"]:
        form, _ = built(RefundForm, {"amount": amount, "reason": "r"}, order)
        assert "amount" in form.errors


def test_fields_posted_for_another_orders_lines_are_not_read():
    order, other = paid_order(("12.50", 3)), paid_order(("9.00", 2))
    stranger = other.items.get()
    form, _ = built(RefundForm, {f"quantity_{stranger.pk}": "1", "reason": "r"}, order)
    assert not form.is_valid()
    assert f"quantity_{stranger.pk}" not in form.cleaned_data


def test_the_cancel_form_puts_bottles_back_on_sale_unless_unticked():
    order = paid_order(("12.50", 3), ("20.00", 2))
    first, second = order.items.order_by("pk")
    unbound, _ = built(CancelRefundForm, None, order)
    assert all(row[2].value() for row in unbound.rows())
    form, _ = built(CancelRefundForm, {f"restock_{first.pk}": "on", "reason": "moved"}, order)
    assert form.is_valid()
    assert form.restock() == {first.pk: True, second.pk: False}
    assert not built(CancelRefundForm, {f"restock_{first.pk}": "on"}, order)[0].is_valid()


@pytest.mark.parametrize(
    ("posted", "confirmed"),
    [("on", True), (" ON ", True), ("true", True), ("1", True)]
    + [(value, False) for value in ["", "0", "false", "no", "off", "\x00", "yes please"]],
)
def test_the_age_is_confirmed_only_by_the_box_ticked(posted, confirmed):
    widget = ConfirmationInput()

    assert widget.value_from_datadict({"age": posted}, {}, "age") is confirmed
    assert widget.value_from_datadict({}, {}, "age") is False
