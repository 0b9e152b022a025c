"""The language a page is answered in: the visitor's in the shop, ADMIN_LANGUAGE in the admin."""

import pytest
from django.urls import reverse, set_script_prefix

pytestmark = pytest.mark.django_db


def test_the_shop_answers_in_the_browsers_language_and_the_admin_in_its_own(admin_client):
    shop = admin_client.get(reverse("shop:wine_list"), HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    assert shop["Content-Language"] == "fr"
    admin = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    assert admin["Content-Language"] == "en"


def test_a_visitor_chooses_a_language_that_outlasts_their_browsers(client, settings):
    response = client.post(
        reverse("set_language"), {"language": "fr", "next": reverse("shop:cart_detail")}
    )
    assert response.status_code == 302 and response["Location"] == reverse("shop:cart_detail")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME]["max-age"] == 365 * 24 * 3600
    page = client.get(reverse("shop:wine_list"), HTTP_ACCEPT_LANGUAGE="en")
    assert page["Content-Language"] == "fr"


def test_a_language_the_shop_does_not_speak_is_english(client):
    page = client.get(reverse("shop:wine_list"), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    assert page["Content-Language"] == "en"
    refused = client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert refused.status_code == 302
    assert client.get("/")["Content-Language"] == "en"


def test_the_admin_is_told_apart_from_the_shop_under_a_script_prefix_too(admin_client):
    # Mounted at /wine by a proxy: the WSGI handler sets the prefix that reverse() puts in
    # front of paths, as the test client does not, and the request's path_info goes without it.
    set_script_prefix("/wine/")
    try:
        admin = admin_client.get("/admin/", SCRIPT_NAME="/wine", HTTP_ACCEPT_LANGUAGE="fr")
        shop = admin_client.get("/", SCRIPT_NAME="/wine", HTTP_ACCEPT_LANGUAGE="fr")
    finally:
        set_script_prefix("/")
    assert admin.status_code == 200
    assert admin["Content-Language"] == "en"
    assert "'unsafe-eval'" in admin["Content-Security-Policy"]  # the admin's policy
    assert shop["Content-Language"] == "fr"
    assert "'unsafe-eval'" not in shop["Content-Security-Policy"]
