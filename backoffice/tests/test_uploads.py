import pytest
from django.urls import reverse

from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db


def test_a_body_over_the_limit_is_refused_from_its_length_before_it_is_read(client, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000
    wine = WineFactory(stock=5)
    url = reverse("shop:cart_add", args=[wine.pk])
    # Announces more than it sends: a view reading the body would fail on the missing bytes.
    response = client.post(
        url, "quantity=1", content_type="application/x-www-form-urlencoded", CONTENT_LENGTH="5000"
    )
    assert response.status_code == 413
    assert (
        "We take uploads up to 1000\xa0bytes; this one was 4.9\xa0KB." in response.content.decode()
    )
    assert client.session.get("cart") is None
    assert client.post(url, {"quantity": 1}).status_code == 302
