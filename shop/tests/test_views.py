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
