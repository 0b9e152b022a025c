"""Order placement and every status change: the only code that writes orders or their stock."""

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, When
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.codes import random_code
from core.money import money_format, percent_of, quantize, to_minor_units
from coupons.exceptions import CouponNotValid
from coupons.selectors import coupon_check
from coupons.services import coupon_redeem, coupon_release
from orders.carriers import carrier_name_clean, tracking_number_clean
from orders.emails import order_email_queue, order_payment_alert_queue
from orders.events import CARD_DECLINED, order_event_record
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
from orders.limits import Placer, open_orders_check
from orders.models import Order, OrderEmail, OrderEvent, OrderItem
from orders.signals import announce_paid, announce_released
from shop.cart import Cart
from shop.catalog_cache import cart_pages_changed, catalog_changed, shown_stock
from shop.delivery.models import DeliveryMethod
from shop.delivery.postcodes import postal_code_clean
from shop.delivery.selectors import DeliveryQuote, delivery_quote
from shop.exceptions import CartError
from shop.models import Wine


@dataclass(frozen=True)
class Customer:
    """Who the order is for and, when it is delivered, where it goes."""

    first_name: str
    last_name: str
    email: str
    phone: str = ""
    address: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""


def _new_number() -> str:
    """Return a fresh order number such as WS-7K3F-9QH2."""
    chars = random_code(8)
    return f"WS-{chars[:4]}-{chars[4:]}"


def _lock_wines(wine_ids) -> dict[int, Wine]:
    """Lock the wines' rows, always in id order so concurrent orders cannot deadlock."""
    return {
        w.pk: w for w in Wine.objects.select_for_update().filter(pk__in=wine_ids).order_by("pk")
    }


def _move_stock(changes: dict[int, int], wines: dict[int, Wine]) -> None:
    """Add changes[wine_id] bottles to each of the locked wines' stock in one statement."""
    Wine.objects.filter(pk__in=list(changes)).update(
        stock=Case(*(When(pk=pk, then=F("stock") + delta) for pk, delta in changes.items())),
        updated=timezone.now(),
    )
    # Most sales leave the catalog pages' "In stock" as it was: they stay cached then. Cart
    # pages show a wine's stock as the most bottles a cart can hold.
    cart_pages_changed()
    if any(
        shown_stock(wines[pk], wines[pk].stock) != shown_stock(wines[pk], wines[pk].stock + delta)
        for pk, delta in changes.items()
    ):
        catalog_changed()


def _addressed(customer: Customer, delivery_method: str) -> Customer:
    """Return the customer with the postal code written as the country writes it, and without
    an address for click & collect; InvalidContact when a delivery lacks where it goes."""
    if delivery_method == DeliveryMethod.COLLECT:
        return replace(customer, address="", postal_code="", city="", country="")
    missing = [
        label
        for label, value in [
            (_("an address"), customer.address),
            (_("a city"), customer.city),
            (_("a phone number for the carrier"), customer.phone),
        ]
        if not value.strip()
    ]
    if missing and delivery_method == DeliveryMethod.DELIVERY:
        raise InvalidContact(_("A delivery needs %(what)s.") % {"what": _(" and ").join(missing)})
    if delivery_method != DeliveryMethod.DELIVERY:
        return customer  # delivery_quote says what the methods are
    return replace(customer, postal_code=postal_code_clean(customer.country, customer.postal_code))


def _delivery_fields(quote: DeliveryQuote) -> dict:
    return {
        "delivery_method": quote.method,
        "delivery_zone": quote.zone,
        "vat_rate": quote.vat_rate,
        "minimum_age": quote.minimum_age,
        "age_confirmed_at": timezone.now(),
    }


def _staff_money(amount: Decimal) -> str:
    """Return an amount as the timeline writes it for staff: in the admin's language, whatever
    language the customer who placed the order reads."""
    return money_format(amount, language=settings.ADMIN_LANGUAGE)


def _delivery_words(order: Order) -> str:
    if order.collected:
        return "click & collect at the shop"
    charge = _staff_money(order.delivery_charge) if order.delivery_charge else "free"
    return f"delivery to {order.get_country_display()} (zone {order.delivery_zone}, {charge})"


def _create_with_number(**fields) -> Order:
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Order.objects.create(number=_new_number(), **fields)
        except IntegrityError:
            continue
    raise IntegrityError("Could not find a free order number.")


@transaction.atomic
def order_place(
    *,
    lines: Sequence[tuple[int, int]],
    customer: Customer,
    delivery_method: str,
    age_confirmed: bool,
    expected_total: Decimal | None = None,
    coupon_code: str = "",
    placer: Placer | None = None,
    language: str = "",
) -> Order:
    """Turn (wine id, quantity) lines into a pending order, reserving the stock.

    Prices come from the database as it is now; when expected_total (what the customer was
    shown) differs from the new total the order is refused with CartChanged. A coupon code
    takes one of the coupon's uses (CouponNotValid when none is left) and discounts the wine,
    never the delivery. The delivery is quoted for the customer's country and postal code
    (DeliveryRefused where the shop doesn't deliver) and its charge added to the total; the
    order keeps the destination's VAT rate and minimum age, which the customer must have
    confirmed (AgeNotConfirmed). A placer (a visitor at checkout) holding too many unpaid
    orders gets TooManyOrders. Every refusal comes before any stock or coupon use is taken.

    The order keeps the language the customer ordered in, for what is sent to them later.
    No email goes out before the customer pays: the order's details were typed by whoever
    placed it, and the shop must not mail them to an address nobody vouched for.
    """
    if not age_confirmed:
        raise AgeNotConfirmed(_("Please confirm you are old enough to buy wine."))
    if placer is not None:
        open_orders_check(placer=placer, email=customer.email)
    customer = _addressed(customer, delivery_method)
    quantities: dict[int, int] = {}
    for wine_id, quantity in lines:
        if quantity < 1:
            raise OutOfStock(_("Every quantity must be at least 1."))
        quantities[wine_id] = quantities.get(wine_id, 0) + quantity
    if not quantities:
        raise EmptyCart(_("Your cart is empty."))

    wines = _lock_wines(quantities)
    for wine_id, quantity in quantities.items():
        wine = wines.get(wine_id)
        if wine is None or not wine.available:
            raise WineUnavailable(
                _("%(wine)s is no longer available. Please review your cart.") % {"wine": wine}
                if wine
                else _("A wine in your cart is no longer available. Please review your cart.")
            )
        if wine.stock < quantity:
            raise OutOfStock(
                ngettext(
                    "Only %(count)s bottle of %(wine)s is left. Please review your cart.",
                    "Only %(count)s bottles of %(wine)s are left. Please review your cart.",
                    wine.stock,
                )
                % {"count": wine.stock, "wine": wine}
                if wine.stock
                else _("%(wine)s has just sold out. Please review your cart.") % {"wine": wine}
            )

    items = [
        OrderItem(
            wine=wines[wine_id],
            sku=wines[wine_id].sku,
            wine_name=wines[wine_id].name,
            vintage=wines[wine_id].vintage,
            unit_price=wines[wine_id].price,
            quantity=quantity,
            line_total=quantize(wines[wine_id].price * quantity),
        )
        for wine_id, quantity in sorted(quantities.items())
    ]
    subtotal = quantize(sum((item.line_total for item in items), Decimal(0)))
    # The coupon's discount as it will be taken, to know whether delivery is free from it.
    discount = (
        percent_of(subtotal, coupon_check(code=coupon_code).percent_off) if coupon_code else 0
    )
    quote = delivery_quote(
        method=delivery_method,
        country=customer.country,
        postal_code=customer.postal_code,
        bottles=sum(quantities.values()),
        subtotal=subtotal - discount,
    )
    order = _create_with_number(
        status=Order.Status.PENDING,
        currency=settings.SHOP_CURRENCY,
        subtotal=subtotal,
        discount=Decimal("0.00"),
        delivery_charge=quote.charge,
        total=subtotal + quote.charge,
        placed_from=placer.placed_from if placer else "",
        language=language[: Order._meta.get_field("language").max_length],
        **_delivery_fields(quote),
        **asdict(customer) | {"country": quote.country},
    )
    if coupon_code:
        redemption = coupon_redeem(code=coupon_code, order_id=order.pk, subtotal=subtotal)
        order.coupon_code = redemption.coupon.code
        order.discount = redemption.discount
        order.total = subtotal - redemption.discount + quote.charge
        order.save(update_fields=["coupon_code", "discount", "total", "updated"])
    if expected_total is not None and quantize(expected_total) != order.total:
        raise CartChanged(
            _(
                "Your total has changed: prices or the delivery charge moved since the page was "
                "shown. The order is now %(total)s; please check it."
            )
            % {"total": money_format(order.total)}
        )
    for item in items:
        item.order = order
    OrderItem.objects.bulk_create(items)
    _move_stock({wine_id: -quantity for wine_id, quantity in quantities.items()}, wines)
    order_event_record(
        order_id=order.pk,
        kind=OrderEvent.Kind.PLACED,
        message=f"Order placed by {order.customer_name}: {len(items)} "
        f"line{pluralize(len(items))}, {_staff_money(order.total)}"
        + (
            f" with coupon {order.coupon_code} (−{_staff_money(order.discount)})"
            if order.coupon_code
            else ""
        )
        + f"; {_delivery_words(order)}.",
        to_status=Order.Status.PENDING,
    )
    if order.total == 0:  # a coupon covers it all: nothing for Stripe to charge
        order_mark_paid(
            order_id=order.pk, payment_intent="", amount_minor=0, currency=order.currency
        )
    return order


def _change_status(order_id: int, *, allowed_from, to: str, actor, message: str, **fields) -> Order:
    """Move the order to status `to` if it is in one of allowed_from, or raise InvalidTransition.

    The row is locked first, so of two concurrent changes exactly one sees the old status.
    """
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.status not in allowed_from:
        raise InvalidTransition(
            f"Order {order.number} is {order.get_status_display().lower()} and cannot be "
            f"moved to {Order.Status(to).label.lower()}."
        )
    previous = order.status
    order.status = to
    for name, value in fields.items():
        setattr(order, name, value)
    order.save(update_fields=["status", "updated", *fields])
    order_event_record(
        order_id=order.pk,
        kind=OrderEvent.Kind.STATUS,
        message=message,
        from_status=previous,
        to_status=to,
        actor=actor,
    )
    return order


def _release_stock(order: Order, *, actor, reason: str) -> None:
    changes = {}
    for wine_id, quantity in order.items.filter(wine__isnull=False).values_list("wine", "quantity"):
        changes[wine_id] = changes.get(wine_id, 0) + quantity
    if changes:
        _move_stock(changes, _lock_wines(changes))
    order_event_record(
        order_id=order.pk,
        kind=OrderEvent.Kind.STOCK_RELEASED,
        message=f"{sum(changes.values())} bottles back in stock ({reason}).",
        actor=actor,
    )


def _release_coupon(order: Order, *, actor) -> None:
    """Give back the coupon use of an unpaid order, once, and say so on its timeline."""
    redemption = coupon_release(order_id=order.pk)
    if redemption is not None:
        cart_pages_changed()  # a coupon used up may be usable again
        order_event_record(
            order_id=order.pk,
            kind=OrderEvent.Kind.NOTE,
            message=f"Coupon {redemption.coupon.code}: its use was given back.",
            actor=actor,
        )


@transaction.atomic
def order_cancel(*, order_id: int, actor=None, reason: str = "") -> Order:
    """Cancel an unpaid order and put its bottles back in stock.

    A paid order is refunded, not canceled (orders.refunds): canceling it would keep the money
    and put its bottles back on sale all the same. It is refused with InvalidTransition.
    """
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.status == Order.Status.PAID:
        raise InvalidTransition(
            f"Order {order.number} is paid: a paid order is refunded, not canceled."
        )
    order = _change_status(
        order_id,
        allowed_from={Order.Status.PENDING},
        to=Order.Status.CANCELED,
        actor=actor,
        message="Order canceled" + (f": {reason}" if reason else "."),
        canceled_at=timezone.now(),
    )
    _release_stock(order, actor=actor, reason="order canceled")
    _release_coupon(order, actor=actor)
    announce_released(order)  # its Checkout Session must not be paid any more
    return order


def order_back_to_cart(*, order_id: int, cart: Cart) -> list[str]:
    """Cancel the customer's pending order and put its lines, and its coupon while it is still
    valid, back into their cart; return what could not come back, in the customer's words.

    The order is canceled first (InvalidTransition when it is no longer pending), so its bottles
    and its coupon's use are free again for the cart to take.
    """
    order = order_cancel(order_id=order_id, reason="the customer changed it")
    problems = []
    for item in order.items.select_related("wine"):
        if item.wine is None:
            problems.append(_("%(wine)s is no longer sold.") % {"wine": item.wine_name})
            continue
        try:
            cart.add(item.wine, item.quantity, replace=True)
        except CartError as refusal:
            problems.append(str(refusal))
    if order.coupon_code:
        try:
            coupon_check(code=order.coupon_code)
        except CouponNotValid as refusal:
            problems.append(
                _("Coupon %(code)s: %(refusal)s") % {"code": order.coupon_code, "refusal": refusal}
            )
        else:
            cart.apply_coupon(order.coupon_code)
    return problems


@transaction.atomic
def order_expire(*, order_id: int, why: str = "it was not paid in time") -> Order:
    """Expire an order left unpaid and put its bottles back in stock."""
    order = _change_status(
        order_id,
        allowed_from={Order.Status.PENDING},
        to=Order.Status.EXPIRED,
        actor=None,
        message=f"Order expired: {why}.",
    )
    _release_stock(order, actor=None, reason="order expired")
    _release_coupon(order, actor=None)
    announce_released(order)  # its Checkout Session must not be paid any more
    return order


@transaction.atomic
def _expire_if_stale(order_id: int, *, unpaid_before, unreached_before) -> bool:
    # Looked at again under the row's lock: the customer may have just reached Stripe's page.
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None or order.status != Order.Status.PENDING:
        return False
    if not order.stripe_session_id and order.created < unreached_before:
        order_expire(order_id=order_id, why="the payment page was never opened in time")
        return True
    if order.created < unpaid_before:
        order_expire(order_id=order_id)
        return True
    return False


def order_expire_unpaid(*, unpaid_minutes: int, unreached_minutes: int) -> int:
    """Expire the pending orders older than unpaid_minutes, and those older than
    unreached_minutes whose customer never reached Stripe's payment page; return how many.

    An order nobody tried to pay holds its bottles for the short hold only, so that orders
    scripted without ever paying can't keep the catalog off sale for long.
    """
    now = timezone.now()
    unpaid_before = now - timedelta(minutes=unpaid_minutes)
    unreached_before = now - timedelta(minutes=unreached_minutes)
    stale = Order.objects.filter(
        Q(created__lt=unpaid_before) | Q(stripe_session_id="", created__lt=unreached_before),
        status=Order.Status.PENDING,
    )
    return sum(
        _expire_if_stale(order_id, unpaid_before=unpaid_before, unreached_before=unreached_before)
        for order_id in stale.values_list("pk", flat=True).iterator()
    )


def _shipment_message(order: Order, *, carrier: str, tracking_number: str) -> str:
    if order.collected:
        return "Order ready for collection at the shop."
    if tracking_number:
        return f"Order shipped with {carrier}, tracking {tracking_number}."
    return f"Order shipped with {carrier}." if carrier else "Order shipped."


@transaction.atomic
def order_ship(*, order_id: int, actor=None, carrier: str = "", tracking_number: str = "") -> Order:
    """Mark a paid order as shipped, with its carrier and tracking number when given, and owe
    the customer the shipping notice. A click & collect order is made ready for collection
    instead, with no carrier.

    The row is locked first: of two staff shipping the order at once, the second gets
    AlreadyShipped, and the notice is owed once.
    """
    carrier = carrier_name_clean(carrier)
    tracking_number = tracking_number_clean(tracking_number)
    if tracking_number and not carrier:
        raise InvalidShipment("Choose the carrier of the tracking number.")
    order = Order.objects.select_for_update().get(pk=order_id)
    collect = order.collected
    if order.status == Order.Status.SHIPPED:
        done = "made ready for collection" if collect else "shipped"
        when = timezone.localtime(order.shipped_at) if order.shipped_at else None
        raise AlreadyShipped(
            f"Order {order.number} was already {done}"
            + (f" on {when:%Y-%m-%d at %H:%M}." if when else ".")
        )
    if collect and (carrier or tracking_number):
        raise InvalidShipment(
            f"Order {order.number} is collected at the shop: it has no carrier or tracking number."
        )
    order = _change_status(
        order_id,
        allowed_from={Order.Status.PAID},
        to=Order.Status.SHIPPED,
        actor=actor,
        message=_shipment_message(order, carrier=carrier, tracking_number=tracking_number),
        shipped_at=timezone.now(),
        carrier=carrier,
        tracking_number=tracking_number,
    )
    order_email_queue(order_id=order.pk, kind=OrderEmail.Kind.SHIPPED)
    return order


@transaction.atomic
def order_note_add(*, order_id: int, actor, message: str) -> OrderEvent:
    return order_event_record(
        order_id=order_id, kind=OrderEvent.Kind.NOTE, message=message, actor=actor
    )


@transaction.atomic
def order_contact_update(*, order_id: int, actor, changes: dict[str, str]) -> None:
    """Correct the customer's details on an order, leaving status and amounts alone."""
    allowed = {"first_name", "last_name", "email", "phone", "address", "postal_code", "city"}
    fields = {name: value for name, value in changes.items() if name in allowed}
    if not fields:
        return
    for name, value in fields.items():
        # The form checked them already; an update() skips the model's validators.
        field = Order._meta.get_field(name)
        try:
            field.clean(value, None)
        except ValidationError as error:
            raise InvalidContact(f"{field.verbose_name}: {' '.join(error.messages)}") from error
    Order.objects.filter(pk=order_id).update(**fields, updated=timezone.now())
    order_event_record(
        order_id=order_id,
        kind=OrderEvent.Kind.NOTE,
        message="Customer details changed: " + ", ".join(sorted(fields)).replace("_", " ") + ".",
        actor=actor,
    )


# Both callers hold a transaction and let every error through: a savepoint of its own would only
# cost two more round trips on each paid webhook.
@transaction.atomic(savepoint=False)
def order_mark_paid(
    *, order_id: int, payment_intent: str, amount_minor: int, currency: str
) -> bool:
    """Record Stripe's word that the order was paid; return whether it became paid now.

    The order is paid once, for exactly its total in its currency: another amount or currency
    flags it for staff instead, and so does a payment for an order that is no longer pending.
    """
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.status in {Order.Status.PAID, Order.Status.SHIPPED, Order.Status.REFUNDED}:
        if payment_intent and order.payment_intent and payment_intent != order.payment_intent:
            order_payment_flag(
                order=order,
                reason=f"Stripe reported a second payment ({payment_intent}) for an order "
                f"already paid with {order.payment_intent}: refund one of them.",
            )
        return False  # told before: paid exactly once
    expected = to_minor_units(order.total, order.currency)
    if currency.lower() != order.currency.lower() or amount_minor != expected:
        order_payment_flag(
            order=order,
            reason=f"Stripe reported {amount_minor} {currency.upper()} (minor units) for an "
            f"order of {expected} {order.currency}; the order was not marked paid.",
        )
        return False
    if order.status != Order.Status.PENDING:
        order_payment_flag(
            order=order,
            reason=f"Stripe reported a payment for an order that is {order.get_status_display()}"
            f" (payment {payment_intent}): refund it or restore the order.",
        )
        return False
    order.status, order.paid_at, order.payment_intent = (
        Order.Status.PAID,
        timezone.now(),
        payment_intent,
    )
    order.save(update_fields=["status", "paid_at", "payment_intent", "updated"])
    order_event_record(
        order_id=order.pk,
        kind=OrderEvent.Kind.PAYMENT,
        message=f"Paid {_staff_money(order.total)} "
        + (f"(Stripe {payment_intent})." if payment_intent else "(nothing to charge)."),
        from_status=Order.Status.PENDING,
        to_status=Order.Status.PAID,
    )
    order_email_queue(order_id=order.pk, kind=OrderEmail.Kind.PAYMENT)
    announce_paid(order)
    return True


def order_payment_flag(*, order: Order, reason: str) -> None:
    """Mark the order's payment for staff attention, once per reason, and alert them."""
    if order.payment_flagged and order.payment_flag_reason == reason:
        return
    Order.objects.filter(pk=order.pk).update(
        payment_flagged=True, payment_flag_reason=reason, updated=timezone.now()
    )
    order_event_record(order_id=order.pk, kind=OrderEvent.Kind.PAYMENT, message=reason)
    order_payment_alert_queue(order_id=order.pk)


@transaction.atomic
def order_payment_declined(*, order_id: int, reason: str) -> OrderEvent:
    """Put a card Stripe declined on the order's timeline; the order stays payable."""
    return order_event_record(
        order_id=order_id, kind=OrderEvent.Kind.PAYMENT, message=f"{CARD_DECLINED}{reason}"
    )


def order_release_unpaid(*, order_id: int) -> bool:
    """Expire the order if Stripe says it will not be paid; a paid order stays paid."""
    try:
        order_expire(order_id=order_id)
    except InvalidTransition:
        return False
    return True


def order_lock(*, order_id: int) -> Order:
    """Lock the order's row until the caller's transaction ends, and return the order.

    For the apps above orders that must not be raced for an order while they act on it (opening
    its Checkout Session, numbering its invoice); they change it through the services below.
    """
    if not transaction.get_connection().in_atomic_block:
        # The lock would end with the statement: nothing would be held.
        raise transaction.TransactionManagementError(
            "order_lock needs a transaction to hold the lock in."
        )
    return Order.objects.select_for_update().get(pk=order_id)


@transaction.atomic
def order_checkout_session_store(*, order_id: int, session_id: str) -> OrderEvent:
    """Keep the Stripe Checkout Session the customer is sent to, to pay the order on."""
    Order.objects.filter(pk=order_id).update(stripe_session_id=session_id)
    return order_event_record(
        order_id=order_id,
        kind=OrderEvent.Kind.PAYMENT,
        message=f"Customer sent to Stripe Checkout ({session_id}).",
    )


# One INSERT: atomic on its own, with no savepoint of its own inside the caller's transaction.
@transaction.atomic(savepoint=False)
def order_document_note(
    *, order_id: int, title: str, number: str, actor=None, regenerated: bool = False
) -> OrderEvent:
    """Note a document issued for the order (an invoice, a credit note) on its timeline: once
    when it is numbered, and each time it is generated again."""
    return order_event_record(
        order_id=order_id,
        kind=OrderEvent.Kind.NOTE,
        message=f"{title} {number} generated again." if regenerated else f"{title} {number}.",
        actor=actor,
    )
