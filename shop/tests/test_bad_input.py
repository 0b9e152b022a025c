import re
from decimal import Decimal, InvalidOperation

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from coupons.models import Coupon, CouponRedemption
from coupons.tests.factories import CouponFactory
from orders.models import Order
from orders.services import Customer
from orders.tests.factories import CHECKOUT_FIELDS as CUSTOMER
from orders.tests.factories import CUSTOMER_FIELDS, france_zone, place
from shop.cart import COUPON_KEY
from shop.delivery.countries import COUNTRY_NAMES
from shop.models import Wine
from shop.tests.factories import WineFactory, delivery_zones

pytestmark = pytest.mark.django_db

# Hypothesis runs every example inside one test, so the test's data and client are shared; the
# number of examples comes from the profile (conftest.py).
examples = hsettings(suppress_health_check=[HealthCheck.function_scoped_fixture])

STOCK = 30
START = 2  # bottles in the cart before each example


@pytest.fixture
def wine():
    return WineFactory(stock=STOCK, price=Decimal("12.50"))


def put_in_session(client, **values) -> None:
    session = client.session
    session.update(values)
    session.save()


def plain_int(value) -> int | None:
    """Return the integer a plain decimal string spells, None for anything else."""
    if isinstance(value, str) and re.fullmatch(r" *[-+]?[0-9]{1,40} *", value):
        return int(value)
    return None


QUANTITIES = st.one_of(
    st.none(),  # the field is missing
    st.text(max_size=20),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(min_value=-3, max_value=130).map(str),
    st.sampled_from(
        [
            "",
            " ",
            "1.5",
            "1e9",
            "1.0",
            "0",
            "-1",
            "+2",
            " 3 ",
            "NaN",
            "inf",
            "0x10",
            "1_0",
            "9" * 5000,
        ]
    ),
)


@examples
@given(quantity=QUANTITIES, action=st.sampled_from(["shop:cart_add", "shop:cart_update"]))
def test_any_quantity_is_answered_and_only_a_valid_one_changes_the_cart(
    client, wine, quantity, action
):
    start = {str(wine.pk): START}
    put_in_session(client, cart=start)

    data = {} if quantity is None else {"quantity": quantity}
    response = client.post(reverse(action, args=[wine.pk]), data)

    assert response.status_code == 302
    after = client.session["cart"]
    n = plain_int(quantity)
    if n is not None:
        new = n if action == "shop:cart_update" else START + n
        valid = n >= 1 and 1 <= new <= min(STOCK, settings.CART_MAX_QUANTITY)
        if n == 0 and action == "shop:cart_update":
            assert after == {}  # 0 in the cart removes the wine
        else:
            assert after == ({str(wine.pk): new} if valid else start)
    elif quantity is None or not quantity.strip():
        assert after == start
    else:
        # Django's IntegerField also reads "1.0", "1_0" or Arabic-Indic digits; whatever it
        # read must stay within the stock.
        assert after == start or (
            list(after) == [str(wine.pk)] and 1 <= after[str(wine.pk)] <= STOCK
        )


def test_unknown_wine_in_cart_urls(client, wine):
    put_in_session(client, cart={str(wine.pk): START})
    for name in ("shop:cart_add", "shop:cart_update"):
        assert client.post(reverse(name, args=[999999]), {"quantity": 1}).status_code == 404
    response = client.post(reverse("shop:cart_remove", args=[999999]))
    assert response.status_code == 302
    assert client.session["cart"] == {str(wine.pk): START}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("post", "/cart/add/-1/", 404),
        ("post", "/cart/add/1e9/", 404),
        ("post", "/cart/add/%D9%A3/", 404),  # an Arabic-Indic digit
        ("post", "/cart/update/abc/", 404),
        ("post", "/cart/remove/99999999999999999999999999999999999999/", 302),
        ("get", "/cart/add/1/", 405),
        ("get", "/cart/clear/", 405),
        ("post", "/cart/", 405),
    ],
)
def test_malformed_cart_urls(client, wine, method, path, status):
    put_in_session(client, cart={str(wine.pk): START})
    assert getattr(client, method)(path, {"quantity": 1}).status_code == status
    assert client.session["cart"] == {str(wine.pk): START}


@examples
@given(
    wine_id=st.integers(min_value=10**6, max_value=10**40),
    name=st.sampled_from(["shop:cart_add", "shop:cart_update", "shop:cart_remove"]),
)
def test_huge_wine_id_in_url_changes_nothing(client, wine, wine_id, name):
    put_in_session(client, cart={str(wine.pk): START})
    response = client.post(reverse(name, args=[wine_id]), {"quantity": 1})
    assert response.status_code == (302 if name == "shop:cart_remove" else 404)
    assert client.session["cart"] == {str(wine.pk): START}


def json_values(keys):
    return st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4)
        ),
        max_leaves=12,
    )


def cart_keys(wine_ids):
    return st.one_of(
        st.sampled_from([str(pk) for pk in wine_ids]),
        st.integers(min_value=0, max_value=10**30).map(str),
        st.text(max_size=6),
    )


@pytest.fixture
def shelf():
    return [WineFactory(stock=STOCK), WineFactory(stock=0), WineFactory(available=False)]


@examples
@given(data=st.data())
def test_tampered_session_cart_never_breaks_a_page(client, shelf, data):
    keys = cart_keys([w.pk for w in shelf])
    cart = data.draw(
        st.one_of(
            json_values(keys),
            st.dictionaries(keys, st.integers() | json_values(keys), max_size=6),
        ),
        label="cart",
    )
    put_in_session(client, cart=cart)

    assert client.get(reverse("shop:wine_list")).status_code == 200
    assert client.get(reverse("shop:cart_detail")).status_code == 200
    assert client.get(reverse("orders:checkout")).status_code in {200, 302}


@pytest.mark.parametrize("key", ["²", "1²", "①", str(2**63), "9" * 30])
@pytest.mark.parametrize("url_name", ["shop:wine_list", "shop:cart_detail", "orders:checkout"])
def test_unreadable_session_cart_key_is_ignored(client, wine, key, url_name):
    put_in_session(client, cart={key: 1, str(wine.pk): 1})
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert "1 bottle" in response.content.decode()


ORDER_NUMBERS = st.text(
    st.characters(exclude_categories=["Cs", "Cc"], exclude_characters="/"), min_size=1
)


@pytest.fixture
def someone_elses_order(wine):
    return place(lines=[(wine.pk, 1)], customer=Customer(**CUSTOMER_FIELDS))


@examples
@given(data=st.data())
def test_tampered_placed_orders_show_no_order(client, someone_elses_order, data):
    placed = data.draw(json_values(st.text(max_size=5)), label="placed_orders")
    listed = placed if isinstance(placed, list) else []
    mentioned = [n for n in listed if isinstance(n, str) and n and "/" not in n]
    candidates = ORDER_NUMBERS | st.just(someone_elses_order.number)
    if mentioned:
        candidates = st.sampled_from(mentioned) | candidates
    number = data.draw(candidates, label="number")
    put_in_session(client, placed_orders=placed)

    response = client.get(reverse("orders:order_placed", kwargs={"number": number}))
    assert response.status_code == 404


def test_placed_order_number_with_nul_byte_is_not_found(client):
    put_in_session(client, placed_orders=["WS-\x00"])
    response = client.get(reverse("orders:order_placed", kwargs={"number": "WS-\x00"}))
    assert response.status_code == 404


LIST_PARAMS = st.fixed_dictionaries(
    {},
    optional={
        "page": st.text(max_size=12) | st.integers(-5, 10**12).map(str),
        "category": st.text(max_size=12) | st.sampled_from(["red", "white", ""]),
        "country": st.text(max_size=12) | st.sampled_from(["france", ""]),
        "region": st.text(max_size=12) | st.sampled_from(["bordeaux", ""]),
        "q": st.text(),
    },
)


@examples
@given(params=LIST_PARAMS)
def test_any_list_query_is_a_page_or_not_found(client, shelf, params):
    response = client.get(reverse("shop:wine_list"), params)
    assert response.status_code in {200, 404}


def test_search_with_nul_byte_is_answered(client):
    WineFactory(name="Tignanello")
    response = client.get(reverse("shop:wine_list"), {"q": "Tign\x00"})
    assert response.status_code == 200
    assert "Tignanello" in response.content.decode()


SHOWN_TOTAL = "25.00"  # two bottles at 12.50

JUNK_FIELDS = st.one_of(
    st.none(),  # the field is missing
    st.text(max_size=30),
    st.sampled_from(["", "   ", "x" * 300, "x\x00y", "not-an-email", "@", "a@b", "<script>"]),
)
JUNK_TOTALS = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        ["0", "25.01", "-25.00", "25.000", "2.5E+1", " 25 ", "NaN", "-Infinity", "1e999999", ""]
    ),
)


def as_decimal(value) -> Decimal | None:
    try:
        return Decimal(value.strip())
    except (AttributeError, InvalidOperation):
        return None


@examples
@given(data=st.data())
def test_checkout_places_an_order_only_when_every_field_is_valid(client, wine, data):
    france_zone()
    valid = {**CUSTOMER, "delivery_method": "delivery", "expected_total": SHOWN_TOTAL}
    # Spoil one or two fields at a time, so that each mistake is seen on its own.
    spoiled = data.draw(st.sets(st.sampled_from(sorted(valid)), max_size=2), label="spoiled")
    posted = dict(valid)
    for name in sorted(spoiled):
        value = data.draw(JUNK_TOTALS if name == "expected_total" else JUNK_FIELDS, label=name)
        if value is None:
            del posted[name]
        else:
            posted[name] = value
    Wine.objects.filter(pk=wine.pk).update(stock=STOCK)
    put_in_session(client, cart={str(wine.pk): 2})
    orders_before = Order.objects.count()

    response = client.post(reverse("orders:checkout"), posted)

    assert response.status_code in {200, 302}
    placed = Order.objects.count() - orders_before
    assert placed in {0, 1}
    if posted == valid:
        assert placed == 1
    if placed:
        order = Order.objects.latest("id")
        assert response.url == reverse("payments:process", args=[order.number])
        assert all(posted.get(name, "").strip() for name in CUSTOMER_FIELDS)
        assert posted["delivery_method"] == "delivery"
        assert posted["age_confirmed"].strip().lower() in {"on", "true", "1"}
        assert "\x00" not in "".join(posted.values())
        assert "@" in posted["email"]
        assert as_decimal(posted["expected_total"]) == Decimal(SHOWN_TOTAL) == order.total
    if response.status_code == 200:
        assert "<h1>Checkout</h1>" in response.content.decode()


@pytest.mark.parametrize("country", ["\x00", "F\x00", "XX", "fr"])
def test_checkout_to_a_code_no_country_has_places_no_order(client, wine, country):
    france_zone()
    put_in_session(client, cart={str(wine.pk): 2})
    posted = {**CUSTOMER, "delivery_method": "delivery", "expected_total": SHOWN_TOTAL}
    response = client.post(reverse("orders:checkout"), {**posted, "country": country})
    assert response.status_code == 200
    assert "<h1>Checkout</h1>" in response.content.decode()
    assert not Order.objects.exists()


@pytest.mark.parametrize("total", ["25.01", "24.99", "0", "-25.00", "25.000", "NaN", "", "abc"])
def test_checkout_with_another_total_places_no_order(client, wine, total):
    put_in_session(client, cart={str(wine.pk): 2})

    response = client.post(reverse("orders:checkout"), {**CUSTOMER, "expected_total": total})

    assert response.status_code in {200, 302}
    assert not Order.objects.exists()
    assert client.session["cart"] == {str(wine.pk): 2}


# Whatever a visitor types as a coupon code: an answer, never a 500, and nothing written but the
# cart's coupon when the code is valid.
CODE = "DRILL10"
CODES = st.one_of(
    st.none(),  # the field is missing
    st.text(max_size=60),
    st.binary(max_size=30).map(lambda raw: raw.decode("latin-1")),
    st.sampled_from(
        [
            "",
            " ",
            CODE,
            CODE.lower(),
            f"  {CODE}\t",
            f"{CODE}\x00",
            "x" * 41,
            "9" * 5000,
            "%",
            "' OR 1=1 --",
            "ＤＲＩＬＬ１０",  # full-width letters
        ]
    ),
)
OTHER_FIELDS = st.dictionaries(st.text(max_size=8), st.text(max_size=12), max_size=3)


@pytest.fixture
def coupon_cart(client):
    wine = WineFactory(stock=5)
    CouponFactory(code=CODE, max_uses=3)
    put_in_session(client, cart={str(wine.pk): 2})
    return wine


def written() -> tuple:
    coupon = Coupon.objects.get(code=CODE)
    return (
        Coupon.objects.count(),
        coupon.uses,
        CouponRedemption.objects.count(),
        Order.objects.count(),
        list(Wine.objects.values_list("stock", flat=True)),
    )


@examples
@given(code=CODES, other=OTHER_FIELDS)
def test_any_code_is_answered_and_only_a_valid_one_reaches_the_cart(
    client, coupon_cart, code, other
):
    cache.clear()  # past the attempts limit every code gets the same answer
    session = client.session
    session.pop(COUPON_KEY, None)
    session.save()
    before = written()
    data = {**other, **({} if code is None else {"code": code})}

    response = client.post(reverse("shop:coupon_apply"), data)

    assert response.status_code == 302
    assert written() == before
    applied = client.session.get(COUPON_KEY)
    assert applied in (None, CODE)
    if applied:
        assert code.strip().upper() == CODE


@examples
@given(other=OTHER_FIELDS)
def test_removing_a_coupon_with_any_form_leaves_the_cart_without_one(client, coupon_cart, other):
    put_in_session(client, **{COUPON_KEY: CODE})
    before = written()

    response = client.post(reverse("shop:coupon_remove"), other)

    assert response.status_code == 302
    assert written() == before
    assert COUPON_KEY not in client.session


@pytest.fixture
def zones():
    return delivery_zones()


DELIVERY_VALUES = st.one_of(
    st.none(),  # the field is missing
    st.text(max_size=12),
    st.sampled_from(
        ["delivery", "collect", "FR", "GB", "JP", "XX", "fr", " FR", "FR\x00", "", "F" * 5000]
    ),
)


@examples
@given(method=DELIVERY_VALUES, country=DELIVERY_VALUES, other=OTHER_FIELDS)
def test_any_delivery_form_is_answered_and_only_a_served_choice_is_kept(
    client, wine, zones, method, country, other
):
    put_in_session(client, cart={str(wine.pk): START}, delivery={"method": "collect"})
    fields = {"method": method, "country": country}
    data = {name: value for name, value in other.items() if name not in fields}
    data |= {name: value for name, value in fields.items() if value is not None}

    response = client.post(reverse("shop:cart_delivery"), data)

    assert response.status_code == 302
    assert response.url == reverse("shop:cart_detail")
    kept = client.session["delivery"]
    served = method == "delivery" and country in {"BE", "DE", "FR", "GB"}
    if served:
        assert kept == {"method": "delivery", "country": country}
    elif method == "collect" and country in (None, "", *COUNTRY_NAMES):
        assert kept == {"method": "collect", "country": "FR"}
    else:
        assert kept == {"method": "collect"}
    assert client.get(reverse("shop:cart_detail")).status_code == 200
