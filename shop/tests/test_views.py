import pytest
from django.urls import reverse

from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db


def test_list_detail_cart_render(client):
    wine = WineFactory(name="Château Lagrézette")
    response = client.get(reverse("shop:wine_list"))
    assert response.status_code == 200
    assert "Château Lagrézette" in response.content.decode()
    assert "Your cart is empty" in response.content.decode()
    response = client.get(wine.get_absolute_url())
    assert response.status_code == 200
    response = client.post(reverse("shop:cart_add", args=[wine.pk]), {"quantity": 2}, follow=True)
    assert response.status_code == 200
    assert "2 bottles" in response.content.decode()


def test_unknown_pages_answer_404_with_the_shop_layout(client, settings):
    settings.DEBUG = False
    response = client.get("/wine/no-such-wine/")
    assert response.status_code == 404
    assert "We couldn't find that page" in response.content.decode()
    assert "Your cart is empty" in response.content.decode()


def test_csrf_failure_is_a_clear_403():
    from django.test import Client

    wine = WineFactory()
    response = Client(enforce_csrf_checks=True).post(
        reverse("shop:cart_add", args=[wine.pk]), {"quantity": 1}
    )
    assert response.status_code == 403
    assert "Please try again" in response.content.decode()
