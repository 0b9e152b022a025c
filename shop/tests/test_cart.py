import html
import json
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore as SignedCookieSession
from django.contrib.sessions.models import Session
from django.urls import reverse

from coupons.tests.factories import CouponFactory
from orders.models import Order
from orders.tests.factories import CHECKOUT_FIELDS as CUSTOMER
from shop.cart import Cart
from shop.delivery.models import ShippingZone
from shop.exceptions import DeliveryRefused
from shop.models import Wine
from shop.tests.factories import WineFactory, delivery_zones, flat_zone
from shop.tests.pages import flash_messages

pytestmark = pytest.mark.django_db

UNDO_FORM = re.compile(r'<form method="post" action="/cart/undo/"')


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def cart_summary(response) -> str:
    """Return the header's cart summary as plain text."""
    match = re.search(r'data-testid="cart-summary">(.*?)</a>', response.content.decode(), re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def put_in_session(client, **values) -> None:
    session = client.session
    session.update(values)
    session.save()


def session_cart(client):
    return client.session.get("cart")


def add(client, wine, quantity, **kwargs):
    return client.post(reverse("shop:cart_add", args=[wine.pk]), {"quantity": quantity}, **kwargs)


def update(client, wine, quantity, **kwargs):
    return client.post(
        reverse("shop:cart_update", args=[wine.pk]), {"quantity": quantity}, **kwargs
    )


def test_cart_total_comes_from_database_price_not_from_tampered_session(
    client, django_capture_on_commit_callbacks
):
    wine = WineFactory(price=Decimal("12.50"))
    other = WineFactory(price=Decimal("30.00"))
    put_in_session(
        client,
        cart={
            str(wine.pk): 2,
            str(other.pk): {"price": "0.01", "quantity": 5},
            "price": "0.01",
            "total": "0.01",
        },
        cart_total="0.01",
        prices={str(wine.pk): "0.01"},
    )

    response = client.get(reverse("shop:cart_detail"))
    assert cart_summary(response) == "2 bottles €25.00"
    assert other.name not in page_text(response)
    assert "0.01" not in page_text(response)

    wine.price = Decimal("20.00")
    with django_capture_on_commit_callbacks(execute=True):
        wine.save()
    response = client.get(reverse("shop:cart_detail"))
    assert cart_summary(response) == "2 bottles €40.00"


def test_order_is_priced_from_database_whatever_the_session_says(client):
    wine = WineFactory(price=Decimal("12.50"))
    put_in_session(client, cart={str(wine.pk): 2, "price": "0.01"}, cart_total="0.01")
    Wine.objects.filter(pk=wine.pk).update(price=Decimal("20.00"))

    response = client.post(reverse("orders:checkout"), {**CUSTOMER, "expected_total": "40.00"})

    order = Order.objects.get()
    assert response.status_code == 302
    assert order.total == Decimal("40.00")
    assert [(i.wine_id, i.unit_price, i.quantity) for i in order.items.all()] == [
        (wine.pk, Decimal("20.00"), 2)
    ]


def test_session_stores_only_wine_ids_and_integer_quantities(client):
    first, second = WineFactory(), WineFactory()
    add(client, first, 2)
    add(client, first, "1")
    add(client, second, 4)
    update(client, second, " 3 ")

    expected = {str(first.pk): 3, str(second.pk): 3}
    cart = session_cart(client)
    assert cart == expected
    assert all(type(quantity) is int for quantity in cart.values())
    assert json.loads(json.dumps(cart)) == cart
    stored = Session.objects.get(session_key=client.session.session_key).get_decoded()
    assert stored["cart"] == expected


def test_cart_drops_wine_deleted_since_it_was_added(client):
    kept, gone = WineFactory(), WineFactory()
    add(client, kept, 1)
    add(client, gone, 2)
    gone.delete()

    response = client.get(reverse("shop:cart_detail"))

    assert "A wine in your cart is no longer sold and was removed." in page_text(response)
    assert cart_summary(response) == "1 bottle €12.50"
    assert session_cart(client) == {str(kept.pk): 1}


def test_cart_drops_wine_made_unavailable(client):
    kept, withdrawn = WineFactory(), WineFactory()
    add(client, kept, 1)
    add(client, withdrawn, 2)
    Wine.objects.filter(pk=withdrawn.pk).update(available=False)

    response = client.get(reverse("shop:cart_detail"))

    assert f"{withdrawn} is no longer available and was removed from your cart." in page_text(
        response
    )
    assert session_cart(client) == {str(kept.pk): 1}


def test_cart_lowers_quantity_to_remaining_stock(client):
    wine = WineFactory(stock=10, price=Decimal("10.00"))
    add(client, wine, 8)
    Wine.objects.filter(pk=wine.pk).update(stock=3)

    response = client.get(reverse("shop:cart_detail"))

    assert f"Only 3 of {wine} left: your cart now holds 3." in page_text(response)
    assert cart_summary(response) == "3 bottles €30.00"
    assert session_cart(client) == {str(wine.pk): 3}


def test_cart_drops_wine_whose_stock_ran_out(client):
    wine = WineFactory(stock=10)
    add(client, wine, 2)
    Wine.objects.filter(pk=wine.pk).update(stock=0)

    response = client.get(reverse("shop:cart_detail"))

    assert f"{wine} is no longer available and was removed from your cart." in page_text(response)
    assert "Your cart is empty" in cart_summary(response)
    assert session_cart(client) == {}


def test_adding_more_than_stock_is_refused_and_changes_nothing(client):
    wine = WineFactory(stock=5)

    response = add(client, wine, 6, follow=True)
    assert f"Only 5 of {wine} can be ordered." in page_text(response)
    assert session_cart(client) is None

    add(client, wine, 3)
    response = add(client, wine, 3, follow=True)
    assert f"Only 5 of {wine} can be ordered and your cart already holds 3." in page_text(response)
    assert session_cart(client) == {str(wine.pk): 3}


def test_updating_above_stock_is_refused_and_changes_nothing(client):
    wine = WineFactory(stock=5)
    add(client, wine, 3)

    response = update(client, wine, 6, follow=True)

    assert f"Only 5 of {wine} can be ordered." in page_text(response)
    assert session_cart(client) == {str(wine.pk): 3}


def test_adding_withdrawn_wine_is_refused_with_message_on_cached_list(client):
    wine = WineFactory()
    client.get(reverse("shop:wine_list"))  # now cached whole for visitors without a cart
    Wine.objects.filter(pk=wine.pk).update(available=False)

    response = add(client, wine, 1, follow=True)

    assert response.redirect_chain == [(reverse("shop:wine_list"), 302)]
    assert f"Sorry, {wine} is not available." in page_text(response)
    assert session_cart(client) is None


def test_quantity_above_cart_maximum_is_refused(client):
    limit = settings.CART_MAX_QUANTITY
    wine = WineFactory(stock=limit * 5)

    response = add(client, wine, limit + 1, follow=True)
    assert f"Ensure this value is less than or equal to {limit}." in page_text(response)
    assert session_cart(client) is None

    add(client, wine, limit - 20)
    response = add(client, wine, 21, follow=True)
    assert f"Only {limit} of {wine} can be ordered and your cart already holds {limit - 20}." in (
        page_text(response)
    )
    update(client, wine, limit + 1)
    assert session_cart(client) == {str(wine.pk): limit - 20}

    update(client, wine, limit)
    assert session_cart(client) == {str(wine.pk): limit}


def test_update_replaces_the_quantity(client):
    wine = WineFactory()
    add(client, wine, 2)

    response = update(client, wine, 5, follow=True)

    assert f"Updated {wine}." in page_text(response)
    assert session_cart(client) == {str(wine.pk): 5}


def test_remove_drops_only_that_wine_at_once_and_undo_puts_it_back(client):
    kept, removed = WineFactory(), WineFactory()
    add(client, kept, 1)
    add(client, removed, 2)

    response = client.post(reverse("shop:cart_remove", args=[removed.pk]), follow=True)

    assert session_cart(client) == {str(kept.pk): 1}
    assert cart_summary(response) == "1 bottle €12.50"
    assert f"Removed {removed} from your cart." in flash_messages(response)
    assert UNDO_FORM.search(response.content.decode())
    add(client, kept, 2)  # what changed since stays

    client.post(reverse("shop:cart_undo"))
    assert session_cart(client) == {str(kept.pk): 3, str(removed.pk): 2}

    response = client.post(reverse("shop:cart_undo"), follow=True)  # only once
    assert "There is nothing to put back in your cart any more." in flash_messages(response)
    assert session_cart(client) == {str(kept.pk): 3, str(removed.pk): 2}


def test_clear_empties_the_cart(client):
    add(client, WineFactory(), 1)
    add(client, WineFactory(), 2)

    response = client.post(reverse("shop:cart_clear"), follow=True)

    assert "cart" not in client.session
    assert cart_summary(response) == "Your cart is empty"
    assert '<p class="empty">Your cart is empty.' in page_text(response)


def test_header_says_cart_is_empty_without_wines(client):
    wine = WineFactory()
    for url in (reverse("shop:wine_list"), wine.get_absolute_url(), reverse("shop:cart_detail")):
        assert cart_summary(client.get(url)) == "Your cart is empty"


def test_header_shows_bottle_count_and_total_on_every_page(client):
    cheap = WineFactory(price=Decimal("12.50"))
    dear = WineFactory(price=Decimal("1030.00"))
    list_url = reverse("shop:wine_list")
    client.get(list_url)  # the catalog body is now cached; the header must not be
    add(client, cheap, 2)
    add(client, dear, 1)

    client.get(reverse("shop:cart_detail"))  # shows the "Added …" messages
    client.cookies.pop(CookieStorage.cookie_name, None)  # as a browser drops the expired cookie

    for url in (list_url, cheap.get_absolute_url(), reverse("shop:cart_detail")):
        assert cart_summary(client.get(url)) == "3 bottles €1,055.00", url


# --- Delivery ------------------------------------------------------------------------------


def choose(client, method="delivery", country="FR", **kwargs):
    data = {"method": method, "country": country}
    return client.post(reverse("shop:cart_delivery"), data, follow=True, **kwargs)


def delivery_line(response) -> str:
    match = re.search(r'data-testid="delivery-line">(.*?)</tr>', response.content.decode(), re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split()) if match else ""


def cart_of(session: dict) -> Cart:
    return Cart(SimpleNamespace(session=session))


@pytest.fixture
def zones():
    return delivery_zones()


def test_chosen_delivery_is_a_line_of_the_cart_and_in_its_total(client, zones):
    add(client, WineFactory(price=Decimal("12.50")), 2)

    response = choose(client, country="FR")

    assert "Your order will be delivered to France." in flash_messages(response)
    assert delivery_line(response) == "Delivery to France (France (mainland)) €9.90"
    assert response.context["cart"].total == Decimal("34.90")
    assert "€34.90" in cart_summary(response)
    assert client.session["delivery"] == {"method": "delivery", "country": "FR"}
    text = page_text(response)
    assert "Free delivery to France from €150.00 of wine, after any coupon." in text
    assert "A coupon takes its percentage off the wine, never off delivery." in text


def test_the_charge_follows_the_bottles_in_the_cart(client, zones):
    wine = WineFactory(price=Decimal("10.00"))
    add(client, wine, 6)
    choose(client, country="DE")
    update(client, wine, 7)

    response = client.get(reverse("shop:cart_detail"))

    assert delivery_line(response) == "Delivery to Germany (European Union) €34.90"
    assert response.context["cart"].total == Decimal("104.90")
    assert "Free delivery to Germany from €400.00" in page_text(response)


def test_free_delivery_is_judged_on_the_wine_after_its_coupon(client, zones):
    add(client, WineFactory(price=Decimal("160.00")), 1)
    choose(client, country="FR")
    assert delivery_line(client.get(reverse("shop:cart_detail"))) == (
        "Delivery to France (France (mainland)) Free"
    )

    CouponFactory(code="TEN", percent_off=10)
    client.post(reverse("shop:coupon_apply"), {"code": "TEN"})
    response = client.get(reverse("shop:cart_detail"))

    # 160.00 less 16.00 is 144.00 of wine: under 150.00, so delivery is charged, undiscounted.
    assert delivery_line(response) == "Delivery to France (France (mainland)) €9.90"
    assert response.context["cart"].total == Decimal("153.90")


def test_click_and_collect_is_free_at_the_shop_address(client, zones, settings):
    settings.SHOP_ADDRESS = ["12 quai des Chartrons", "33000 Bordeaux", "France"]
    add(client, WineFactory(price=Decimal("12.50")), 2)

    response = choose(client, method="collect", country="")

    assert "You will collect your order at the shop." in flash_messages(response)
    assert delivery_line(response) == "Click & collect Free"
    assert response.context["cart"].total == Decimal("25.00")
    assert client.session["delivery"] == {"method": "collect", "country": "FR"}
    assert "12 quai des Chartrons, 33000 Bordeaux, France" in page_text(response)


def test_a_refused_choice_changes_nothing(client, zones):
    add(client, WineFactory(price=Decimal("4.00"), stock=50), 30)
    choose(client, country="FR")

    response = choose(client, country="GB")

    assert flash_messages(response) == [
        "We can't deliver 30 bottles to United Kingdom: it takes orders of 1–6, 7–12, 13–24 "
        "bottles. Change your cart, or choose click & collect."
    ]
    assert client.session["delivery"] == {"method": "delivery", "country": "FR"}
    assert delivery_line(response) == "Delivery to France (France (mainland)) €24.70"


def test_a_choice_the_cart_outgrew_says_why_and_charges_nothing(client, zones):
    wine = WineFactory(price=Decimal("10.00"), stock=50)
    add(client, wine, 6)
    choose(client, country="GB")
    update(client, wine, 25)

    response = client.get(reverse("shop:cart_detail"))

    assert delivery_line(response) == ""
    assert "We can't deliver 25 bottles to United Kingdom" in page_text(response)
    assert response.context["cart"].total == Decimal("250.00")
    assert "€250.00" in cart_summary(response)


def test_a_zone_closed_since_the_choice_is_refused_on_the_cart(
    client, zones, django_capture_on_commit_callbacks
):
    add(client, WineFactory(), 1)
    choose(client, country="DE")
    zone = ShippingZone.objects.get(name="European Union")
    zone.active = False
    with django_capture_on_commit_callbacks(execute=True):
        zone.save()

    response = client.get(reverse("shop:cart_detail"))

    assert "We don't deliver to Germany. We deliver to: France, United Kingdom." in page_text(
        response
    )
    assert response.context["cart"].delivery is None


def test_choosing_delivery_keeps_the_choice_and_prices_it(zones):
    session = {"cart": {}}
    cart = cart_of(session)

    quote = cart.choose_delivery(method="delivery", country="GB")

    # An empty cart is priced as one bottle; its delivery line waits for wine.
    assert (quote.zone, quote.charge) == ("United Kingdom", Decimal("39.90"))
    assert session["delivery"] == {"method": "delivery", "country": "GB"}
    assert cart.delivery_choice == ("delivery", "GB")
    assert cart.delivery is None and cart.total == Decimal("0.00")


@pytest.mark.parametrize(
    ("method", "country"),
    [("delivery", "JP"), ("delivery", ""), ("post", "FR"), ("", ""), ("delivery", "fr")],
)
def test_choices_the_shop_cant_serve_are_refused_and_not_kept(zones, method, country):
    session = {"delivery": {"method": "collect", "country": "FR"}}
    cart = cart_of(session)

    with pytest.raises(DeliveryRefused):
        cart.choose_delivery(method=method, country=country)

    assert session["delivery"] == {"method": "collect", "country": "FR"}
    assert cart.delivery_choice == ("collect", "")


@pytest.mark.parametrize(
    "tampered",
    [
        "FR",
        ["delivery", "FR"],
        None,
        {},
        {"method": "delivery"},
        {"method": "delivery", "country": "XX"},
        {"method": "delivery", "country": ["FR"]},
        {"method": "delivery", "country": {"FR": 1}},
        {"method": ["collect"], "country": "FR"},
        {"method": "DELIVERY", "country": "FR"},
        {"method": "delivery", "country": "FR", "charge": "0.00", "zone": "Corsica"},
    ],
)
def test_a_tampered_delivery_in_the_session_is_ignored(client, zones, tampered):
    add(client, WineFactory(price=Decimal("12.50")), 2)
    put_in_session(client, delivery=tampered)

    response = client.get(reverse("shop:cart_detail"))

    assert response.status_code == 200
    cart = response.context["cart"]
    if isinstance(tampered, dict) and tampered.get("country") == "FR" and len(tampered) == 4:
        # The extra keys are ignored: the charge and zone come from the zones.
        assert delivery_line(response) == "Delivery to France (France (mainland)) €9.90"
        assert cart.total == Decimal("34.90")
    else:
        assert cart.delivery_choice == ("", "")
        assert delivery_line(response) == ""
        assert cart.total == Decimal("25.00")


def test_an_unserved_country_in_the_session_is_refused_on_the_page(client, zones):
    add(client, WineFactory(price=Decimal("12.50")), 2)
    put_in_session(client, delivery={"method": "delivery", "country": "JP"})

    response = client.get(reverse("shop:cart_detail"))

    assert "We don't deliver to Japan." in page_text(response)
    assert response.context["cart"].total == Decimal("25.00")


def test_emptying_the_cart_keeps_the_delivery_chosen(client, zones):
    add(client, WineFactory(), 1)
    choose(client, country="DE")

    client.post(reverse("shop:cart_clear"))

    assert client.session["delivery"] == {"method": "delivery", "country": "DE"}


# --- Quantities and undo ---------------------------------------------------------------------


def quantity_field(page: str, action: str) -> dict[str, str]:
    """Return the attributes of the quantity field of the form posting to action."""
    form = re.search(rf'(?s)<form[^>]*action="{re.escape(action)}".*?</form>', page).group(0)
    field = re.search(r'<input[^>]*name="quantity"[^>]*>', form).group(0)
    return dict(re.findall(r'(\w+)="([^"]*)"', field))


def test_the_cart_offers_at_most_what_can_be_ordered(client, settings):
    settings.CART_MAX_QUANTITY = 12
    scarce, plenty = WineFactory(stock=5), WineFactory(stock=200)
    add(client, scarce, 2)
    add(client, plenty, 3)

    page = client.get(reverse("shop:cart_detail")).content.decode()

    scarce_field = quantity_field(page, reverse("shop:cart_update", args=[scarce.pk]))
    assert (scarce_field["min"], scarce_field["max"]) == ("0", "5")
    assert quantity_field(page, reverse("shop:cart_update", args=[plenty.pk]))["max"] == "12"


def test_the_wine_page_offers_what_can_still_be_added(client, settings):
    settings.CART_MAX_QUANTITY = 12
    scarce, plenty = WineFactory(stock=5), WineFactory(stock=200)
    add_url = reverse("shop:cart_add", args=[scarce.pk])

    field = quantity_field(client.get(scarce.get_absolute_url()).content.decode(), add_url)
    assert (field["min"], field["max"]) == ("1", "5")
    add(client, scarce, 2)
    add(client, plenty, 10)

    page = client.get(scarce.get_absolute_url()).content.decode()
    assert quantity_field(page, add_url)["max"] == "3"
    page = client.get(plenty.get_absolute_url()).content.decode()
    assert quantity_field(page, reverse("shop:cart_add", args=[plenty.pk]))["max"] == "2"


def test_zero_in_the_cart_removes_the_wine_and_says_so_with_an_undo(client):
    kept, removed = WineFactory(), WineFactory()
    add(client, kept, 1)
    add(client, removed, 2)

    response = update(client, removed, 0, follow=True)

    assert session_cart(client) == {str(kept.pk): 1}
    assert f"Removed {removed} from your cart." in flash_messages(response)
    assert UNDO_FORM.search(response.content.decode())

    response = client.post(reverse("shop:cart_undo"), follow=True)
    assert "Put back 1 wine in your cart." in flash_messages(response)
    assert session_cart(client) == {str(kept.pk): 1, str(removed.pk): 2}


def test_a_negative_quantity_is_refused_and_changes_nothing(client):
    wine = WineFactory()
    add(client, wine, 2)

    response = update(client, wine, -1, follow=True)

    assert "Ensure this value is greater than or equal to 0." in page_text(response)
    assert session_cart(client) == {str(wine.pk): 2}


def test_emptying_the_cart_can_be_undone_with_its_coupon(client):
    CouponFactory(code="TEN", percent_off=10)
    first, second = WineFactory(), WineFactory()
    add(client, first, 1)
    add(client, second, 2)
    client.post(reverse("shop:coupon_apply"), {"code": "TEN"})

    response = client.post(reverse("shop:cart_clear"), follow=True)

    assert "Your cart was emptied." in flash_messages(response)
    assert UNDO_FORM.search(response.content.decode())
    assert "cart" not in client.session and "coupon" not in client.session

    response = client.post(reverse("shop:cart_undo"), follow=True)
    assert "Put back 2 wines in your cart." in flash_messages(response)
    assert session_cart(client) == {str(first.pk): 1, str(second.pk): 2}
    assert response.context["cart"].coupon.code == "TEN"
    assert response.context["cart"].total == Decimal("33.75")


def test_undo_is_offered_only_for_a_while(client):
    wine = WineFactory()
    add(client, wine, 2)
    client.post(reverse("shop:cart_remove", args=[wine.pk]))
    kept = client.session["cart_undo"]
    put_in_session(client, cart_undo={**kept, "at": kept["at"] - 16 * 60})

    response = client.post(reverse("shop:cart_undo"), follow=True)

    assert "There is nothing to put back in your cart any more." in flash_messages(response)
    assert not session_cart(client)


@pytest.mark.parametrize(
    "kept",
    [None, "x", {"cart": {"1": 2}}, {"cart": "x", "at": 0}, {"cart": {"1": 2}, "at": "now"}],
)
def test_a_tampered_undo_puts_nothing_back(client, kept):
    wine = WineFactory()
    add(client, wine, 1)
    put_in_session(client, cart_undo=kept)

    response = client.post(reverse("shop:cart_undo"), follow=True)

    assert response.status_code == 200
    assert session_cart(client) == {str(wine.pk): 1}


def test_nothing_emptied_before_an_order_comes_back_after_it(client):
    removed, bought = WineFactory(), WineFactory()
    add(client, removed, 1)
    add(client, bought, 1)
    client.post(reverse("shop:cart_remove", args=[removed.pk]))
    client.post(reverse("orders:checkout"), {**CUSTOMER, "expected_total": "12.50"})
    assert Order.objects.count() == 1

    client.post(reverse("shop:cart_undo"))

    assert not session_cart(client)


def test_removing_a_wine_not_in_the_cart_offers_no_undo(client):
    wine = WineFactory()

    response = client.post(reverse("shop:cart_remove", args=[wine.pk]), follow=True)

    assert flash_messages(response) == []
    assert "cart_undo" not in client.session


def test_no_free_delivery_note_before_a_delivery_is_chosen(client, zones):
    add(client, WineFactory(), 1)

    page = client.get(reverse("shop:cart_detail")).content.decode()

    assert 'data-testid="free-delivery"' not in page
    assert 'data-testid="free-delivery"' in choose(client, country="FR").content.decode()


def test_the_cart_adds_up_as_its_order_will(rf):
    flat_zone("France", price="9.90")
    CouponFactory(code="WELCOME10", percent_off=10)
    request = rf.get("/")
    request.session = SignedCookieSession()
    cart = Cart(request)
    cart.add(WineFactory(price=Decimal("24.90"), stock=10), 3)
    assert [line.kind for line in cart.totals] == ["subtotal", "total"]  # no delivery chosen yet

    cart.apply_coupon("welcome10")
    cart.choose_delivery(method="delivery", country="FR")
    shown = [(line.label, line.amount) for line in cart.totals]

    assert shown == [
        ("Wine", Decimal("74.70")),
        ("Coupon WELCOME10", Decimal("-7.47")),
        ("Delivery to France (France)", Decimal("9.90")),
        ("Total", Decimal("77.13")),
        ("incl. VAT 20 %", Decimal("12.86")),
    ]
