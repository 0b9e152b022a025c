"""The admin's login page: where signing in leads."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")
INDEX = reverse("admin:index")


class LoginForm(HTMLParser):
    """The login form as a browser submits it: its action and the named inputs that belong to
    it, inside the form or joined to it by their form attribute."""

    def __init__(self, html: str):
        super().__init__()
        self.action, self.fields, self._inside = None, {}, False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == "login-form":
            self.action, self._inside = attrs.get("action"), True
        elif (
            tag == "input"
            and attrs.get("name")
            and (self._inside or attrs.get("form") == "login-form")
        ):
            self.fields[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False


@pytest.fixture
def merchant(django_user_model):
    return django_user_model.objects.create_user("merchant", password="pw", is_staff=True)


def sign_in(client, page_url: str):
    form = LoginForm(client.get(page_url).content.decode())
    data = {**form.fields, "username": "merchant", "password": "pw"}
    return client.post(form.action or page_url, data)


def test_signing_in_at_the_bare_login_page_lands_on_the_admin_index(client, merchant):
    response = sign_in(client, LOGIN)
    assert (response.status_code, response["Location"]) == (302, INDEX)
    assert client.get(response["Location"]).status_code == 200


def test_signing_in_after_being_sent_to_the_login_page_goes_back_to_the_page(client, merchant):
    orders = reverse("admin:orders_order_changelist")
    first = client.get(orders)
    assert first.status_code == 302
    response = sign_in(client, first["Location"])
    assert (response.status_code, response["Location"]) == (302, orders)


def test_a_signed_in_member_opening_the_login_page_is_sent_to_the_admin_index(client, merchant):
    client.force_login(merchant)
    response = client.get(LOGIN)
    assert (response.status_code, response["Location"]) == (302, INDEX)
