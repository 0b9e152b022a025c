import pytest
from django.http import HttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CsrfViewMiddleware
from django.test import RequestFactory

from core.csrf import csrf_token, random_chars


def view(request):
    return HttpResponse("ok")


def refused(request, reason=""):
    return HttpResponse(reason, status=403)


@pytest.fixture(autouse=True)
def _plain_refusal(settings):
    settings.CSRF_FAILURE_VIEW = "core.tests.test_csrf.refused"


middleware = CsrfViewMiddleware(view)


def page(cookie: str | None = None):
    """Return the token of a page given to a visitor with that CSRF cookie (or none) and the
    cookie sent with it."""
    request = RequestFactory().get("/", HTTP_COOKIE=f"csrftoken={cookie}" if cookie else "")
    middleware.process_request(request)
    token = csrf_token(request)
    response = middleware.process_response(request, HttpResponse(token))
    return token, response.cookies["csrftoken"].value


def post_accepted(token: str, cookie: str) -> bool:
    request = RequestFactory().post(
        "/", {"csrfmiddlewaretoken": token}, HTTP_COOKIE=f"csrftoken={cookie}"
    )
    request._dont_enforce_csrf_checks = False
    middleware.process_request(request)
    return middleware.process_view(request, view, (), {}) is None


def test_a_new_visitors_token_is_accepted_with_the_cookie_sent_beside_it():
    token, cookie = page()

    assert post_accepted(token, cookie)


def test_each_new_visitor_gets_a_secret_of_their_own_and_cant_post_with_anothers():
    (token, cookie), (other_token, other_cookie) = page(), page()

    assert cookie != other_cookie
    assert not post_accepted(other_token, cookie)
    assert not post_accepted(token, other_cookie)


def test_a_visitor_with_the_cookie_keeps_their_secret_and_gets_a_new_mask_each_page():
    _, cookie = page()
    first, renewed = page(cookie)
    second, _ = page(cookie)

    assert renewed == cookie
    assert first != second and first[:32] != second[:32]
    assert post_accepted(first, cookie) and post_accepted(second, cookie)


@pytest.mark.parametrize("count", [1, 32, 64, 500])
def test_random_chars_are_letters_and_digits_of_the_length_asked(count):
    chars = random_chars(count)

    assert len(chars) == count and set(chars) <= set(CSRF_ALLOWED_CHARS)


def test_random_chars_use_every_letter_and_digit():
    assert set(random_chars(5000)) == set(CSRF_ALLOWED_CHARS)
