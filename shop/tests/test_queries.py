import re

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import Order
from orders.tests.factories import CHECKOUT_FIELDS as CUSTOMER
from shop.delivery.selectors import delivery_countries
from shop.models import Wine, wine_search_text_refresh
from shop.tests.factories import CategoryFactory, RegionFactory, WineFactory, delivery_zones
from shop.tests.pages import shared_part

pytestmark = pytest.mark.django_db

# Categories, countries, regions (what can be chosen), the wines on sale counted by category,
# country and region (every count of the page), the page of wines.
LIST_COLD = 5
# The wine.
DETAIL_COLD = 1
# The session row, then every wine in the cart in one query.
CART_HEADER = 2
# The countries served, for the delivery form, come from the cache once a page has asked.
CART_PAGE = CART_HEADER
# A cart shown before, unchanged since: the session row, and the page from the cache.
CART_PAGE_AGAIN = 1
# A delivery chosen: its country's areas with their zones, and the zones' rates.
DELIVERY = 2
# Click & collect: the home country's VAT rate and age.
COLLECT = 1
# The checkout: the session row and the cart's wines (the countries delivered to are cached).
CHECKOUT_PAGE = 2
# Session and cart wines (2); savepoint, the client's unpaid orders, locking the wines (3); the
# order in its own savepoint (3); its items, the stock update, the placed event (3); release (1);
# the session saved in a savepoint (3). No email is owed before payment. The delivery (4): the
# cart's choice kept and priced, quoted again by the form and by the order (click & collect:
# the shop's country each time); the countries delivered to come from the cache.
CHECKOUT_POST = 19


def fill_cart(client, lines: int) -> list:
    wines = WineFactory.create_batch(lines)
    session = client.session
    session["cart"] = {str(wine.pk): 2 for wine in wines}
    session.save()
    return wines


@pytest.mark.parametrize(("wines", "page"), [(5, 1), (60, 1), (60, 2), (60, 3)])
def test_wine_list_query_count_does_not_grow_with_catalog(
    client, django_assert_num_queries, wines, page
):
    WineFactory.create_batch(wines)
    with django_assert_num_queries(LIST_COLD):
        response = client.get(reverse("shop:wine_list"), {"page": page})
    shown = min(settings.WINES_PER_PAGE, wines - (page - 1) * settings.WINES_PER_PAGE)
    assert response.content.decode().count('class="wine-card"') == shown


@pytest.mark.parametrize("per_page", [5, 48])
def test_wine_list_query_count_does_not_grow_with_page_size(
    client, django_assert_num_queries, settings, per_page
):
    settings.WINES_PER_PAGE = per_page
    WineFactory.create_batch(60)
    with django_assert_num_queries(LIST_COLD):
        response = client.get(reverse("shop:wine_list"))
    assert response.content.decode().count('class="wine-card"') == per_page


def test_cached_wine_list_runs_no_query_for_visitor_without_session(
    client, django_assert_num_queries
):
    WineFactory.create_batch(30)
    first = client.get(reverse("shop:wine_list"), {"page": 2})
    with django_assert_num_queries(0):
        response = client.get(reverse("shop:wine_list"), {"page": 2})
    assert shared_part(response) == shared_part(first)
    assert response.content.decode().count('class="wine-card"') == 30 - settings.WINES_PER_PAGE


def catalog_of(size: int, *, searchable: bool = True) -> Wine:
    """Create size wines of one category, country and region in bulk, as a file import does,
    and return one; their searchable text stored unless searchable is False."""
    first = WineFactory(name="Château Lefèvre", producer="Domaine Œillet")
    Wine.objects.bulk_create(
        Wine(
            sku=f"S-{n:06d}",
            name=f"{'Château' if n % 7 else 'Clos'} {n}",
            slug=f"scale-{n}",
            producer="Maison",
            category_id=first.category_id,
            country_id=first.country_id,
            region_id=first.region_id,
            price=n % 90 + 5,
            stock=n % 20,
        )
        for n in range(size - 1)
    )
    if searchable:
        wine_search_text_refresh(Wine.objects.all())
    return first


CATALOG_PAGES = [
    ("filtered", lambda wine: {"country": wine.country.slug}),
    ("search", lambda wine: {"q": "chateau"}),
    ("filtered search", lambda wine: {"q": "CHÂTEAU", "region": wine.region.slug, "sort": "price"}),
]


@pytest.mark.parametrize("size", [10, 1_000])
@pytest.mark.parametrize(("page", "params"), CATALOG_PAGES)
def test_filtered_and_searched_lists_are_served_whole_at_any_size(
    client, django_assert_num_queries, size, page, params
):
    wine = catalog_of(size)
    with django_assert_num_queries(LIST_COLD):
        cold = client.get(reverse("shop:wine_list"), params(wine))
    with django_assert_num_queries(0):
        warm = Client().get(reverse("shop:wine_list"), params(wine))
    assert shared_part(warm) == shared_part(cold)
    names = Wine.objects.values_list("name", flat=True)
    found = len(names) if page == "filtered" else sum("Château" in name for name in names)
    shown = min(found, settings.WINES_PER_PAGE)
    assert found < size or page == "filtered"
    assert cold.content.decode().count('class="wine-card"') == shown


def test_wine_page_runs_one_query_cold_and_none_warm(client, django_assert_num_queries):
    wine = catalog_of(50)
    with django_assert_num_queries(DETAIL_COLD):
        cold = client.get(wine.get_absolute_url())
    with django_assert_num_queries(0):
        warm = Client().get(wine.get_absolute_url())
    assert shared_part(warm) == shared_part(cold)
    assert "Château Lefèvre" in warm.content.decode()


@pytest.mark.parametrize("lines", [1, 30])
def test_cart_page_query_count_does_not_grow_with_lines(client, django_assert_num_queries, lines):
    fill_cart(client, lines)
    delivery_countries()  # asked by an earlier page
    with django_assert_num_queries(CART_PAGE):
        first = client.get(reverse("shop:cart_detail"))
    with django_assert_num_queries(CART_PAGE_AGAIN):
        again = client.get(reverse("shop:cart_detail"))
    assert first.content.decode().count('name="quantity"') == lines
    assert shared_part(again) == shared_part(first)


# The session row, when the engine reads it from the database rather than through the cache.
SESSION_ROW = {"django.contrib.sessions.backends.db": 1, "core.sessions": 0}
# The wine added; the session saved in its own savepoint (savepoint, update, release).
ADD_TO_CART = 4


@pytest.mark.parametrize("engine", SESSION_ROW)
def test_cart_page_and_add_to_cart_read_the_session_row_only_without_the_cache(
    settings, django_assert_num_queries, engine
):
    settings.SESSION_ENGINE = engine
    client = Client()
    wines = fill_cart(client, 4)
    client.get(reverse("shop:cart_detail"))

    with django_assert_num_queries(CART_PAGE_AGAIN - 1 + SESSION_ROW[engine]):
        response = client.get(reverse("shop:cart_detail"))
    assert response.content.decode().count('name="quantity"') == 4
    with django_assert_num_queries(ADD_TO_CART + SESSION_ROW[engine]):
        response = client.post(reverse("shop:cart_add", args=[wines[0].pk]), {"quantity": 1})
    assert response.url == reverse("shop:cart_detail")
    assert client.session["cart"][str(wines[0].pk)] == 3


@pytest.mark.parametrize(
    ("method", "country", "extra"), [("delivery", "FR", DELIVERY), ("collect", "", COLLECT)]
)
@pytest.mark.parametrize("lines", [1, 30])
def test_cart_page_with_a_delivery_chosen_adds_a_constant(
    client, django_assert_num_queries, lines, method, country, extra
):
    delivery_zones()
    fill_cart(client, lines)
    client.post(reverse("shop:cart_delivery"), {"method": method, "country": country})
    client.get(reverse("shop:cart_detail"))  # shows the message, so is not kept
    with django_assert_num_queries(CART_PAGE + extra):
        response = client.get(reverse("shop:cart_detail"))
    assert 'data-testid="delivery-line"' in response.content.decode()
    with django_assert_num_queries(CART_PAGE_AGAIN):
        again = client.get(reverse("shop:cart_detail"))
    assert shared_part(again) == shared_part(response)


@pytest.mark.parametrize("delivery", [False, True])
def test_header_total_on_other_pages_adds_a_constant_with_a_delivery(
    client, django_assert_num_queries, delivery
):
    delivery_zones()
    wines = fill_cart(client, 3)
    if delivery:
        client.post(reverse("shop:cart_delivery"), {"method": "delivery", "country": "FR"})
    client.get(reverse("shop:cart_detail"))
    client.get(reverse("shop:wine_list"))
    # The page of a wine: the wine, then the header's cart.
    with django_assert_num_queries(1 + CART_HEADER + (DELIVERY if delivery else 0)):
        response = client.get(wines[0].get_absolute_url())
    assert ("€84.90" if delivery else "€75.00") in response.content.decode()


@pytest.mark.parametrize("lines", [1, 30])
def test_checkout_page_query_count_does_not_grow_with_lines(
    client, django_assert_num_queries, lines
):
    wines = fill_cart(client, lines)
    client.get(reverse("orders:checkout"))
    with django_assert_num_queries(CHECKOUT_PAGE):
        response = client.get(reverse("orders:checkout"))
    page = response.content.decode()
    assert all(f"2 × {wine.name} " in page for wine in wines)
    assert 'name="expected_total"' in page


@pytest.mark.parametrize("lines", [1, 30])
def test_placing_order_query_count_does_not_grow_with_lines(
    client, django_assert_num_queries, lines
):
    fill_cart(client, lines)
    page = client.get(reverse("orders:checkout")).content.decode()
    shown_total = re.search(r'name="expected_total" value="([^"]+)"', page).group(1)

    with django_assert_num_queries(CHECKOUT_POST):
        response = client.post(
            reverse("orders:checkout"), {**CUSTOMER, "expected_total": shown_total}
        )

    order = Order.objects.get()
    assert response.url == reverse("payments:process", args=[order.number])
    assert order.items.count() == lines


def rows_read(sql: str) -> int:
    """Return the most rows that one step of PostgreSQL's plan for sql read, whether it kept
    them or filtered them out."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        [plan] = cursor.fetchone()[0]
    steps = [plan["Plan"]]
    for step in steps:
        steps += step.get("Plans", [])
    return max(step["Actual Rows"] + step.get("Rows Removed by Filter", 0) for step in steps)


@pytest.mark.postgres
def test_a_filter_with_few_wines_reads_only_them_in_a_large_catalog(postgres_only, client):
    # Past some 10,000 wines of one region, PostgreSQL would walk them all in name order to
    # find the few of another, were it not told which region is asked for.
    catalog_of(30_000, searchable=False)
    few = WineFactory.create_batch(10, region=RegionFactory(), category=CategoryFactory())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE shop_wine")
    for name in ("category", "country", "region"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("shop:wine_list"), {name: getattr(few[0], name).slug})
        assert response.content.decode().count('class="wine-card"') == len(few)
        page = queries.captured_queries[-1]["sql"]
        assert rows_read(page) == len(few), name
