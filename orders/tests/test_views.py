from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from coupons.models import Coupon
from coupons.tests.factories import CouponFactory
from orders.models import Order
from orders.tests.factories import CHECKOUT_FIELDS, france_zone
from shop.models import Wine
from shop.tests.factories import WineFactory, flat_zone
from shop.tests.pages import flash_messages

pytestmark = pytest.mark.django_db

# The checkout's fields for a delivery to Bordeaux.
DELIVERED = {**CHECKOUT_FIELDS, "delivery_method": "delivery"}
# What a header injection or a split CSV row is made of (NUL is refused by every form field).
CONTROLS = ["\r\nBcc:", "\n", "\x1b[31m", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("field", sorted(set(DELIVERED) - {"age_confirmed"}))
@pytest.mark.parametrize("control", CONTROLS)
def test_checkout_refuses_control_characters_in_any_field(client, field, control):
    france_zone()
    wine = WineFactory(stock=5, price=Decimal("12.50"))
    client.post(reverse("shop:cart_add", args=[wine.pk]), {"quantity": 1})
    value = DELIVERED[field]
    posted = {**DELIVERED, field: value[:3] + control + value[3:], "expected_total": "12.50"}

    response = client.post(reverse("orders:checkout"), posted)

    assert response.status_code == 200
    assert not Order.objects.exists()
    form = response.context["form"]
    if field in {"email", "phone", "postal_code", "country", "delivery_method"}:
        assert field in form.errors  # their own format speaks first
    else:
        assert form.has_error(field, "control_characters")
        assert "without line breaks or control characters" in response.content.decode()


def test_checkout_places_the_discounted_order(cart):
    CouponFactory(code="THIRD", percent_off=33)
    cart.post(reverse("shop:coupon_apply"), {"code": "third"})
    page = cart.get(reverse("orders:checkout"))
    text = page.content.decode()
    assert "Coupon THIRD" in text and "−€9.89" in text  # 33 % of 29.97

    cart.post(reverse("orders:checkout"), {**CHECKOUT_FIELDS, "expected_total": "20.08"})

    order = Order.objects.get()
    assert (order.coupon_code, order.discount, order.total) == (
        "THIRD",
        Decimal("9.89"),
        Decimal("20.08"),
    )
    assert "coupon" not in cart.session  # used: the next cart starts without it
    assert order.language == "en"  # the page's language: what the customer read and agreed to


def test_a_coupon_used_up_after_it_was_applied_is_refused_at_checkout(cart):
    coupon = CouponFactory(code="ONCE", max_uses=1)
    cart.post(reverse("shop:coupon_apply"), {"code": "once"})
    Coupon.objects.filter(pk=coupon.pk).update(uses=1)  # another customer took the last use

    response = cart.post(
        reverse("orders:checkout"), {**CHECKOUT_FIELDS, "expected_total": "26.97"}, follow=True
    )

    # The cart finds it used up before any order is tried, and the total it showed is gone.
    assert Order.objects.count() == 0
    assert "Coupon ONCE: This coupon code has reached its usage limit. It was removed." in (
        flash_messages(response)
    )
    assert response.context["cart"].coupon is None


def test_a_coupon_used_up_while_the_order_is_placed_gives_a_message_not_an_error(cart):
    coupon = CouponFactory(code="RACE", max_uses=1)
    cart.post(reverse("shop:coupon_apply"), {"code": "race"})
    page = cart.get(reverse("orders:checkout"))
    assert page.context["cart"].coupon == coupon
    taken = []

    def another_checkout_takes_the_last_use(execute, sql, params, many, context):
        # Just before this order takes its use, after the cart found the coupon usable.
        if sql.startswith('UPDATE "coupons_coupon"') and not taken:
            taken.append(sql)
            Coupon.objects.filter(pk=coupon.pk).update(uses=1)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(another_checkout_takes_the_last_use):
        response = cart.post(
            reverse("orders:checkout"),
            {**CHECKOUT_FIELDS, "expected_total": "26.97"},
            follow=True,
        )

    assert taken, "the order never tried to take the coupon's use"
    assert response.status_code == 200
    assert response.redirect_chain == [(reverse("shop:cart_detail"), 302)]
    assert flash_messages(response) == [
        "Coupon RACE: This coupon code has reached its usage limit. It was removed from your cart."
    ]
    assert Order.objects.count() == 0
    assert Wine.objects.get().stock == 10
    assert response.context["cart"].coupon is None and "coupon" not in cart.session


def test_checkout_shows_the_delivery_and_the_age_to_confirm(cart):
    france_zone(price="9.90")
    cart.post(reverse("orders:checkout"), {"delivery_method": "delivery", "country": "FR"})

    page = cart.get(reverse("orders:checkout")).content.decode()

    assert "I confirm I am at least 18 years old, the legal age to buy wine in France." in page
    assert "Delivery to France" in page and "39.87" in page  # 29.97 + 9.90


def test_a_postal_code_of_another_zone_shows_the_new_total_instead_of_placing(cart):
    france_zone(price="9.90")
    flat_zone("Corsica", price="19.90", postal_prefixes="20")
    posted = {**DELIVERED, "postal_code": "20000", "expected_total": "39.87"}

    page = cart.post(reverse("orders:checkout"), posted)

    assert not Order.objects.exists()
    assert "Your total is now €49.87" in page.content.decode()
    assert "delivery to France 20000, €19.90" in page.content.decode()
    placed = cart.post(reverse("orders:checkout"), {**posted, "expected_total": "49.87"})
    order = Order.objects.get()
    assert placed.url == reverse("payments:process", args=[order.number])
    assert (order.delivery_zone, order.delivery_charge, order.total) == (
        "Corsica",
        Decimal("19.90"),
        Decimal("49.87"),
    )


def test_click_and_collect_keeps_no_address_and_the_cart_remembers_it(cart):
    cart.post(
        reverse("orders:checkout"), {**CHECKOUT_FIELDS, "phone": "", "expected_total": "29.97"}
    )

    order = Order.objects.get()
    assert (order.delivery_method, order.address, order.city, order.total) == (
        "collect",
        "",
        "",
        Decimal("29.97"),
    )
    assert cart.session["delivery"]["method"] == "collect"


HOSTILE = st.one_of(st.none(), st.text(max_size=40), st.sampled_from(["FR", "XX", "fr", "", " "]))


@hsettings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(
    method=st.one_of(st.sampled_from(["delivery", "collect", "drone", ""]), st.text(max_size=12)),
    country=HOSTILE,
    postal_code=st.one_of(st.none(), st.text(max_size=20), st.sampled_from(["33000", "2A000"])),
    phone=st.one_of(st.none(), st.text(max_size=25), st.just("+33 (0)5 56.00-00-00")),
    age=st.one_of(
        st.sampled_from([None, "on", "", "0", "false", "no", "off", "\x00", " ON ", "true", "1"]),
        st.text(max_size=6),
    ),
)
def test_hostile_delivery_fields_are_a_form_error_never_a_500(
    client, method, country, postal_code, phone, age
):
    france_zone()
    wine = WineFactory(stock=5, price=Decimal("12.50"))
    client.post(reverse("shop:cart_add", args=[wine.pk]), {"quantity": 1})
    posted = {**DELIVERED, "delivery_method": method, "expected_total": "12.50"}
    for name, value in [("country", country), ("postal_code", postal_code), ("phone", phone)]:
        posted[name] = value
    posted["age_confirmed"] = age
    posted = {name: value for name, value in posted.items() if value is not None}
    orders_before = Order.objects.count()

    response = client.post(reverse("orders:checkout"), posted)

    assert response.status_code in {200, 302}
    placed = Order.objects.count() - orders_before
    wine.refresh_from_db()
    assert wine.stock == 5 - placed
    if placed:
        order = Order.objects.latest("id")
        assert age.strip().lower() in {"on", "true", "1"} and method in {"delivery", "collect"}
        assert order.age_confirmed_at is not None
        if method == "delivery":
            assert (order.country, order.postal_code) == ("FR", "33000")
        Order.objects.filter(pk=order.pk).delete()
        Wine.objects.filter(pk=wine.pk).update(stock=5)
    else:
        assert response.status_code == 200 and response.context["form"].errors
    client.post(reverse("shop:cart_remove", args=[wine.pk]))


def test_checkout_speaks_french_and_the_order_remembers_it(cart):
    nbsp = "\u00a0"
    page = cart.get(reverse("orders:checkout"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "<h1>Commander</h1>" in page and "Votre commande" in page
    assert "Prénom" in page and "Code postal" in page and "Retrait en boutique" in page
    assert f"Passer la commande · 29,97{nbsp}€" in page
    assert "Place order" not in page and "€29.97" not in page

    refused = cart.post(
        reverse("orders:checkout"),
        {**CHECKOUT_FIELDS, "age_confirmed": "", "expected_total": "29.97"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert "Veuillez confirmer que vous avez l’âge légal" in refused.content.decode()

    cart.post(
        reverse("orders:checkout"),
        {**CHECKOUT_FIELDS, "expected_total": "29.97"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    order = Order.objects.get()
    assert order.language == "fr"
    placed = order.events.get(kind="placed").message
    assert "€29.97" in placed  # the staff's timeline keeps the admin's language


def test_a_total_that_moved_is_explained_in_french(client):
    nbsp = "\u00a0"
    france_zone(price="9.90")
    wine = WineFactory(stock=5, price=Decimal("29.97"))
    client.post(reverse("shop:cart_add", args=[wine.pk]), {"quantity": 1})

    page = client.post(
        reverse("orders:checkout"),
        {**DELIVERED, "expected_total": "29.97"},
        HTTP_ACCEPT_LANGUAGE="fr",
    ).content.decode()

    assert f"Votre total est désormais de 39,87{nbsp}€" in page
    assert f"livraison{nbsp}: France 33000, 9,90{nbsp}€" in page
    assert not Order.objects.exists()
