import pytest
from django.urls import reverse

from shop.models import Wine
from shop.tests.factories import RegionFactory, WineFactory

pytestmark = pytest.mark.django_db


def wine_form(wine, **changes):
    data = {
        "sku": wine.sku,
        "name": wine.name,
        "slug": wine.slug,
        "producer": wine.producer,
        "vintage": wine.vintage or "",
        "description": wine.description,
        "category": wine.category_id,
        "country": wine.country_id,
        "region": wine.region_id or "",
        "price": wine.price,
        "stock": wine.stock,
        "low_stock_threshold": wine.low_stock_threshold,
        "available": "on" if wine.available else "",
    }
    return {**data, **changes}


def test_wine_changelist_queries_do_not_grow(admin_client, django_assert_max_num_queries):
    url = reverse("admin:shop_wine_changelist")
    WineFactory.create_batch(3)
    admin_client.get(url)
    with django_assert_max_num_queries(100) as few:
        admin_client.get(url)
    WineFactory.create_batch(30)
    with django_assert_max_num_queries(100) as many:
        page = admin_client.get(url)
    assert page.status_code == 200
    assert len(few) == len(many)


def test_admin_refuses_region_of_another_country(admin_client):
    wine = WineFactory()
    elsewhere = RegionFactory()
    url = reverse("admin:shop_wine_change", args=[wine.pk])
    response = admin_client.post(url, wine_form(wine, region=elsewhere.pk))
    assert response.status_code == 200
    assert "The region must belong to the wine" in response.content.decode()
    wine.refresh_from_db()
    assert wine.region_id != elsewhere.pk


def test_admin_stock_edit_keeps_bottles_reserved_meanwhile(admin_client):
    wine = WineFactory(stock=10)
    url = reverse("admin:shop_wine_change", args=[wine.pk])
    admin_client.get(url)
    seen = wine_form(wine)
    Wine.objects.filter(pk=wine.pk).update(stock=7)  # an order took 3 while the form was open
    response = admin_client.post(url, {**seen, "stock": 12, "stock_seen": 10})
    assert response.status_code == 302
    wine.refresh_from_db()
    assert wine.stock == 9
