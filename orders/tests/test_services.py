from decimal import Decimal

import pytest
from django.db import transaction

from coupons.tests.factories import CouponFactory
from orders.exceptions import (
    AgeNotConfirmed,
    AlreadyShipped,
    CartChanged,
    EmptyCart,
    InvalidContact,
    InvalidShipment,
    InvalidTransition,
    OutOfStock,
    WineUnavailable,
)
from orders.models import Order, OrderEmail, OrderEvent
from orders.services import (
    order_cancel,
    order_checkout_session_store,
    order_contact_update,
    order_document_note,
    order_expire_unpaid,
    order_lock,
    order_ship,
)
from orders.tasks import order_expire_unpaid as expire_task
from orders.tests.factories import OrderFactory, aged, customer, france_zone, pay, place
from shop.delivery.models import DeliveryMethod
from shop.exceptions import DeliveryRefused
from shop.models import Wine
from shop.tests.factories import WineFactory, flat_zone

pytestmark = pytest.mark.django_db


def test_place_order_copies_prices_and_reserves_stock():
    a = WineFactory(price=Decimal("12.90"), stock=10)
    b = WineFactory(price=Decimal("7.35"), stock=3)
    order = place(lines=[(a.pk, 2), (b.pk, 3)], customer=customer())

    assert order.status == Order.Status.PENDING
    assert order.number.startswith("WS-") and len(order.number) == 12
    assert order.subtotal == order.total == Decimal("47.85")
    items = {item.wine_id: item for item in order.items.all()}
    assert items[a.pk].unit_price == Decimal("12.90")
    assert items[b.pk].line_total == Decimal("22.05")
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.stock, b.stock) == (8, 0)
    assert list(order.events.values_list("kind", flat=True)) == [OrderEvent.Kind.PLACED]
    assert order.events.get().message.endswith(
        ": 2 lines, €47.85; delivery to France (zone France, free)."
    )


def test_place_order_merges_repeated_lines():
    wine = WineFactory(stock=5)
    order = place(lines=[(wine.pk, 2), (wine.pk, 1)], customer=customer())
    assert [(i.wine_id, i.quantity) for i in order.items.all()] == [(wine.pk, 3)]


@pytest.mark.parametrize(
    ("make_lines", "error"),
    [
        (lambda w: [], EmptyCart),
        (lambda w: [(w.pk, 6)], OutOfStock),
        (lambda w: [(w.pk, 0)], OutOfStock),
        (lambda w: [(w.pk + 1000, 1)], WineUnavailable),
    ],
)
def test_place_order_refuses_bad_lines_and_writes_nothing(make_lines, error):
    wine = WineFactory(stock=5)
    with pytest.raises(error):
        place(lines=make_lines(wine), customer=customer())
    wine.refresh_from_db()
    assert wine.stock == 5
    assert Order.objects.count() == 0


def test_place_order_refuses_unavailable_wine():
    wine = WineFactory(stock=5, available=False)
    with pytest.raises(WineUnavailable):
        place(lines=[(wine.pk, 1)], customer=customer())
    assert Order.objects.count() == 0


def test_place_order_refuses_when_price_changed_since_checkout_page():
    wine = WineFactory(price=Decimal("10.00"), stock=5)
    shown_total = Decimal("20.00")
    wine.price = Decimal("11.00")
    wine.save()
    with pytest.raises(CartChanged):
        place(lines=[(wine.pk, 2)], customer=customer(), expected_total=shown_total)
    wine.refresh_from_db()
    assert wine.stock == 5
    assert Order.objects.count() == 0


def test_cancel_releases_stock_once():
    wine = WineFactory(stock=10)
    order = place(lines=[(wine.pk, 4)], customer=customer())
    order_cancel(order_id=order.pk)
    wine.refresh_from_db()
    assert wine.stock == 10
    with pytest.raises(InvalidTransition):
        order_cancel(order_id=order.pk)
    wine.refresh_from_db()
    assert wine.stock == 10
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELED
    assert order.canceled_at is not None
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds.count(OrderEvent.Kind.STOCK_RELEASED) == 1


def test_a_paid_order_is_refunded_not_canceled(django_capture_on_commit_callbacks):
    from orders.signals import order_released

    released = []
    order_released.connect(
        lambda sender, **kwargs: released.append(kwargs), dispatch_uid="test-paid", weak=False
    )
    wine = WineFactory(stock=10)
    order = pay(place(lines=[(wine.pk, 4)], customer=customer()))
    try:
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(InvalidTransition, match="a paid order is refunded, not canceled"),
        ):
            order_cancel(order_id=order.pk, reason="asked by phone")
    finally:
        order_released.disconnect(dispatch_uid="test-paid")
    order.refresh_from_db()
    assert (order.status, order.canceled_at) == (Order.Status.PAID, None)
    assert Wine.objects.get(pk=wine.pk).stock == 6
    assert not order.events.filter(kind=OrderEvent.Kind.STOCK_RELEASED).exists()
    assert released == []


def test_cancel_of_deleted_wine_keeps_the_order():
    wine = WineFactory(stock=10)
    order = place(lines=[(wine.pk, 1)], customer=customer())
    order.items.update(wine=None)
    order_cancel(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELED


def test_ship_only_paid_orders():
    wine = WineFactory(stock=10)
    order = place(lines=[(wine.pk, 1)], customer=customer())
    with pytest.raises(InvalidTransition):
        order_ship(order_id=order.pk)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)
    order_ship(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert order.shipped_at is not None
    with pytest.raises(InvalidTransition):
        order_cancel(order_id=order.pk)
    wine.refresh_from_db()
    assert wine.stock == 9


def test_ship_keeps_the_carrier_and_tracking_number_and_owes_one_shipping_notice(
    admin_user, django_capture_on_commit_callbacks
):
    order = OrderFactory(status=Order.Status.PAID)
    with django_capture_on_commit_callbacks(execute=True):
        order_ship(
            order_id=order.pk,
            actor=admin_user,
            carrier="dhl express",
            tracking_number=" JJD-0001 2345 ",
        )
    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number) == (
        Order.Status.SHIPPED,
        "DHL Express",
        "JJD-0001 2345",
    )
    event = order.events.get(kind=OrderEvent.Kind.STATUS)
    assert event.message == "Order shipped with DHL Express, tracking JJD-0001 2345."
    assert (event.from_status, event.to_status, event.actor) == ("paid", "shipped", admin_user)
    email = order.emails.get()
    assert email.kind == OrderEmail.Kind.SHIPPED and email.sent_at is not None


@pytest.mark.parametrize(
    ("carrier", "number", "message"),
    [
        ("Coursier du quartier", "", "Order shipped with Coursier du quartier."),
        ("", "", "Order shipped."),
    ],
)
def test_ship_says_what_it_was_given(carrier, number, message):
    order = OrderFactory(status=Order.Status.PAID)
    order_ship(order_id=order.pk, carrier=carrier, tracking_number=number)
    assert order.events.get(kind=OrderEvent.Kind.STATUS).message == message


def test_shipping_twice_is_refused_as_already_shipped_and_owes_no_second_email():
    order = OrderFactory(status=Order.Status.PAID)
    order_ship(order_id=order.pk, carrier="UPS", tracking_number="1Z999")
    with pytest.raises(AlreadyShipped, match=f"Order {order.number} was already shipped on "):
        order_ship(order_id=order.pk, carrier="GLS", tracking_number="OTHER1")
    order.refresh_from_db()
    assert (order.carrier, order.tracking_number) == ("UPS", "1Z999")
    assert order.events.filter(kind=OrderEvent.Kind.STATUS).count() == 1
    assert order.emails.count() == 1


@pytest.mark.parametrize(
    ("carrier", "number", "error"),
    [
        ("", "1Z999", "Choose the carrier of the tracking number."),
        ("UPS", "1Z/999", "only letters, digits, spaces and hyphens"),
        ("UPS", "1" * 41, "at most 40 characters"),
        ("x" * 51, "", "at most 50 characters"),
    ],
)
def test_a_bad_shipment_is_refused_and_changes_nothing(carrier, number, error):
    order = OrderFactory(status=Order.Status.PAID)
    with pytest.raises(InvalidShipment, match=error):
        order_ship(order_id=order.pk, carrier=carrier, tracking_number=number)
    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number) == (Order.Status.PAID, "", "")
    assert not order.events.exists() and not order.emails.exists()


def test_a_click_and_collect_order_is_made_ready_for_collection_without_a_carrier():
    order = OrderFactory(status=Order.Status.PAID, delivery_method="collect", address="")
    with pytest.raises(InvalidShipment, match="collected at the shop"):
        order_ship(order_id=order.pk, carrier="UPS", tracking_number="1Z999")
    order_ship(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    event = order.events.get(kind=OrderEvent.Kind.STATUS)
    assert event.message == "Order ready for collection at the shop."
    assert order.emails.get().kind == OrderEmail.Kind.SHIPPED
    with pytest.raises(AlreadyShipped, match="was already made ready for collection"):
        order_ship(order_id=order.pk)


def test_catalog_pages_are_retired_only_when_what_they_show_of_stock_changes(
    django_capture_on_commit_callbacks,
):
    from shop.catalog_cache import catalog_version

    plenty, scarce = WineFactory(stock=50), WineFactory(stock=8)  # low from 6 bottles
    version = catalog_version()

    def buy(wine, quantity):
        with django_capture_on_commit_callbacks(execute=True):
            return place(lines=[(wine.pk, quantity)], customer=customer())

    buy(plenty, 3)  # 47: still "In stock"
    assert catalog_version() == version
    order = buy(scarce, 3)  # 5: "Only 5 left"
    assert catalog_version() != version
    version = catalog_version()
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order_id=order.pk)  # back to 8: "In stock" again
    assert catalog_version() != version


@pytest.mark.parametrize(
    "changes",
    [
        {"last_name": "Smith\r\nBcc: victim@example.com"},
        {"city": "Bordeaux\u2028"},
        {"email": "not-an-address"},
        {"first_name": ""},
        {"address": "x" * 251},
    ],
)
def test_contact_changes_that_cant_be_stored_change_nothing(changes):
    order = OrderFactory()
    before = Order.objects.values().get(pk=order.pk)
    with pytest.raises(InvalidContact):
        order_contact_update(order_id=order.pk, actor=None, changes={"city": "Lyon", **changes})
    assert Order.objects.values().get(pk=order.pk) == before
    assert not order.events.exists()


def test_storing_a_checkout_session_keeps_its_id_and_notes_it_on_the_timeline():
    order = OrderFactory()
    order_checkout_session_store(order_id=order.pk, session_id="cs_test_1")
    order_checkout_session_store(order_id=order.pk, session_id="cs_test_2")
    order.refresh_from_db()
    assert (order.status, order.stripe_session_id) == (Order.Status.PENDING, "cs_test_2")
    assert list(order.events.values_list("kind", "message")) == [
        (OrderEvent.Kind.PAYMENT, "Customer sent to Stripe Checkout (cs_test_1)."),
        (OrderEvent.Kind.PAYMENT, "Customer sent to Stripe Checkout (cs_test_2)."),
    ]


def test_a_document_is_noted_when_numbered_and_each_time_it_is_generated_again(admin_user):
    order = OrderFactory(status=Order.Status.PAID)
    order_document_note(order_id=order.pk, title="Invoice", number="INV-2026-000001")
    order_document_note(
        order_id=order.pk,
        title="Invoice",
        number="INV-2026-000001",
        actor=admin_user,
        regenerated=True,
    )
    order_document_note(order_id=order.pk, title="Credit note", number="CN-2026-000001")
    assert list(order.events.values_list("kind", "message", "actor")) == [
        (OrderEvent.Kind.NOTE, "Invoice INV-2026-000001.", None),
        (OrderEvent.Kind.NOTE, "Invoice INV-2026-000001 generated again.", admin_user.pk),
        (OrderEvent.Kind.NOTE, "Credit note CN-2026-000001.", None),
    ]
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


@pytest.mark.django_db(transaction=True)
def test_an_order_is_locked_only_inside_a_transaction():
    order = OrderFactory()
    with pytest.raises(transaction.TransactionManagementError):
        order_lock(order_id=order.pk)
    with transaction.atomic():
        assert order_lock(order_id=order.pk) == order
    with pytest.raises(Order.DoesNotExist), transaction.atomic():
        order_lock(order_id=order.pk + 1000)


def test_expiry_releases_stock_of_old_unpaid_orders_exactly_once():
    wine = WineFactory(stock=10)
    old = place(lines=[(wine.pk, 3)], customer=customer())
    recent = place(lines=[(wine.pk, 2)], customer=customer())
    paid = place(lines=[(wine.pk, 1)], customer=customer())
    aged(old, 90)
    aged(paid, 90)
    Order.objects.filter(pk=paid.pk).update(status=Order.Status.PAID)

    Order.objects.update(stripe_session_id="cs_test_reached")
    assert order_expire_unpaid(unpaid_minutes=60, unreached_minutes=30) == 1
    assert order_expire_unpaid(unpaid_minutes=60, unreached_minutes=30) == 0
    wine.refresh_from_db()
    assert wine.stock == 10 - 2 - 1
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {old.pk: "expired", recent.pk: "pending", paid.pk: "paid"}
    assert old.events.filter(kind=OrderEvent.Kind.STOCK_RELEASED).count() == 1


def test_an_order_that_never_reached_stripe_is_released_after_the_short_hold(settings):
    settings.ORDER_UNPAID_EXPIRY_MINUTES = 24 * 60
    settings.ORDER_UNREACHED_HOLD_MINUTES = 30
    wine = WineFactory(stock=10)
    unreached = place(lines=[(wine.pk, 3)], customer=customer())
    reached = place(lines=[(wine.pk, 2)], customer=customer())
    # The customer of this one opened Stripe's page (payments.services.checkout_session_ensure).
    Order.objects.filter(pk=reached.pk).update(stripe_session_id="cs_test_open")
    fresh = place(lines=[(wine.pk, 1)], customer=customer())
    aged(unreached, 31)
    aged(reached, 31)

    assert expire_task.delay().get() == 1
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {unreached.pk: "expired", reached.pk: "pending", fresh.pk: "pending"}
    wine.refresh_from_db()
    assert wine.stock == 10 - 2 - 1
    assert "payment page was never opened" in unreached.events.get(to_status="expired").message

    # The one that reached Stripe keeps its bottles for the full payment window.
    aged(reached, 24 * 60 + 1)
    assert expire_task.delay().get() == 1
    wine.refresh_from_db()
    assert wine.stock == 10 - 1


def test_an_order_delivered_pays_the_zone_and_keeps_the_destination_rules():
    france_zone(price="9.90")
    wine = WineFactory(price=Decimal("12.50"), stock=10)
    CouponFactory(code="TEN", percent_off=10)

    order = place(lines=[(wine.pk, 2)], coupon_code="TEN", expected_total=Decimal("32.40"))

    assert (order.subtotal, order.discount, order.delivery_charge, order.total) == (
        Decimal("25.00"),
        Decimal("2.50"),
        Decimal("9.90"),
        Decimal("32.40"),
    )
    assert (order.delivery_method, order.country, order.delivery_zone) == (
        "delivery",
        "FR",
        "France",
    )
    assert (order.vat_rate, order.minimum_age) == (Decimal("0.2000"), 18)
    assert order.age_confirmed_at is not None
    assert "delivery to France (zone France, €9.90)" in order.events.get().message


def test_free_delivery_is_judged_on_the_wine_after_the_coupon():
    flat_zone("France", price="9.90", free_from=Decimal("50.00"))
    wine = WineFactory(price=Decimal("30.00"), stock=10)
    CouponFactory(code="HALF", percent_off=50)

    full = place(lines=[(wine.pk, 2)])
    halved = place(lines=[(wine.pk, 2)], coupon_code="HALF")

    assert (full.delivery_charge, full.total) == (Decimal("0.00"), Decimal("60.00"))
    assert (halved.delivery_charge, halved.total) == (Decimal("9.90"), Decimal("39.90"))


def test_click_and_collect_keeps_no_address_and_is_taxed_at_home(settings):
    wine = WineFactory(stock=5)

    order = place(
        lines=[(wine.pk, 1)], customer=customer(phone=""), delivery_method=DeliveryMethod.COLLECT
    )

    assert (order.address, order.postal_code, order.city) == ("", "", "")
    assert (order.country, order.delivery_charge, order.delivery_zone) == ("FR", 0, "")
    assert "click & collect" in order.events.get().message


@pytest.mark.parametrize(
    ("overrides", "refusal"),
    [
        ({"customer": customer(country="JP", postal_code="100-0001")}, DeliveryRefused),
        ({"customer": customer(postal_code="3300")}, DeliveryRefused),
        ({"customer": customer(phone="")}, InvalidContact),
        ({"delivery_method": "drone"}, DeliveryRefused),
        ({"age_confirmed": False}, AgeNotConfirmed),
    ],
)
def test_a_refused_delivery_or_age_takes_no_stock_and_no_coupon_use(overrides, refusal):
    wine = WineFactory(stock=5)
    coupon = CouponFactory(code="TEN", percent_off=10)

    with pytest.raises(refusal):
        place(lines=[(wine.pk, 2)], coupon_code="TEN", **overrides)

    wine.refresh_from_db()
    coupon.refresh_from_db()
    assert (wine.stock, coupon.uses, Order.objects.count()) == (5, 0, 0)


def test_the_postal_code_is_kept_as_the_country_writes_it():
    flat_zone("Netherlands", countries=("NL",))
    wine = WineFactory(stock=5)

    order = place(lines=[(wine.pk, 1)], customer=customer(country="NL", postal_code=" 1012  ab "))

    assert (order.postal_code, order.vat_rate) == ("1012 AB", Decimal("0.2100"))
