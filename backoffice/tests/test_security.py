import os

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.test import RequestFactory
from django.urls import reverse

from backoffice.healthz import BROKER_CACHE_KEY
from backoffice.placeholders import SECRETS, is_placeholder
from backoffice.tests.production import env_example, manage, production_env
from backoffice.tests.workers import broker_away
from core.ratelimit import client_address
from shop.services import wine_image_prepare, wine_image_set
from shop.tests.factories import WineFactory, photo_bytes
from shop.tests.test_browser import CHROMIUM, page  # noqa: F401 - the Chromium page fixture

pytestmark = pytest.mark.django_db


# --- Production settings ---------------------------------------------------------------------


def test_check_deploy_finds_no_issue_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_warns_when_production_turns_security_off():
    env = production_env(DJANGO_SECURE_SSL_REDIRECT="0", DJANGO_SECURE_HSTS_SECONDS="0")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout
    assert "security.W008" in result.stderr + result.stdout


@pytest.mark.parametrize(
    "missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "STRIPE_WEBHOOK_SECRET"]
)
def test_production_refuses_to_start_without_secret_key_hosts_or_webhook_secret(missing):
    env = production_env()
    del env[missing]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"Set {missing} in the environment" in result.stderr


@pytest.mark.parametrize("name", SECRETS)
def test_production_refuses_to_start_with_a_placeholder_of_env_example(name):
    placeholder = env_example()[name]
    assert is_placeholder(placeholder), f".env.example's {name} is no recognisable placeholder"
    result = manage("check", env=production_env(**{name: placeholder}))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name} still holds the placeholder of .env.example" in result.stderr
    # The embedded default (`make run`) starts with .env.example copied as it is.
    result = manage("check", env=production_env(DJANGO_DEBUG="1", **{name: placeholder}))
    assert result.returncode == 0, result.stderr


def test_a_stripe_test_key_in_production_is_logged_and_fails_check_deploy():
    env = production_env(STRIPE_SECRET_KEY="sk_test_51Example")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "payments.W001" in result.stderr
    assert "WARNING payments.checks STRIPE_SECRET_KEY is a test-mode key" in result.stdout
    env = production_env(STRIPE_SECRET_KEY="sk_live_51Example")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "test-mode" not in result.stdout


def test_the_embedded_default_needs_no_configuration():
    env = production_env(DJANGO_DEBUG="1")
    del env["DJANGO_SECRET_KEY"], env["DJANGO_ALLOWED_HOSTS"]
    result = manage("check", env=env)
    assert result.returncode == 0, result.stderr


def test_plain_http_is_redirected_to_https_with_hsts_once_there(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/"
    # Behind the proxy, which says the customer's request came over HTTPS.
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_cookies_are_secure_and_logs_go_to_stdout():
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.LOGGING["handlers"]["console"]["stream"] == "ext://sys.stdout"


# --- Security headers ------------------------------------------------------------------------


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def test_shop_pages_allow_no_script_but_our_own(client):
    response = client.get(reverse("shop:wine_list"))
    csp = directives(response)
    assert csp["script-src"] == "'self'"
    assert csp["default-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "camera=()" in response["Permissions-Policy"]


def test_admin_pages_allow_what_unfold_and_alpine_need(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    csp = directives(response)
    assert csp["script-src"] == "'self' 'unsafe-inline' 'unsafe-eval'"
    assert csp["style-src"] == "'self' 'unsafe-inline'"
    # Unfold serves its fonts and scripts itself: no other origin (but where customers pay).
    assert not [value for name, value in csp.items() if "http" in value and name != "form-action"]


def test_checkout_may_send_the_customer_to_stripe_or_the_sandbox(client, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_SANDBOX_URL = "http://127.0.0.1:12111"
    form_action = directives(client.get("/"))["form-action"]
    assert form_action == "'self' http://127.0.0.1:12111"
    settings.STRIPE_SECRET_KEY = "sk_live_example"
    assert directives(client.get("/"))["form-action"] == "'self' https://checkout.stripe.com"


# --- /healthz --------------------------------------------------------------------------------


def test_healthz_answers_ok_when_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "cache": "ok"},
    }
    assert response["Cache-Control"] == "no-store"


def test_healthz_names_the_broker_when_it_is_down(client):
    with broker_away():
        response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json() == {
        "status": "down",
        "checks": {"database": "ok", "broker": "down", "cache": "ok"},
        "down": ["broker"],
    }


def test_healthz_keeps_the_brokers_answer_for_a_few_seconds(client):
    assert client.get("/healthz").json()["checks"]["broker"] == "ok"
    with broker_away():
        # Load balancers polling every second don't each open a broker connection.
        kept = client.get("/healthz")
        assert kept.status_code == 200
        assert kept.json()["checks"]["broker"] == "ok"
    with broker_away():
        from django.core.cache import cache

        cache.delete(BROKER_CACHE_KEY)
        assert client.get("/healthz").status_code == 503


def test_healthz_names_the_database_when_it_cannot_be_queried(client, django_db_blocker):
    # With database access blocked every query fails, as it would with the database away.
    with django_db_blocker.block():
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["database"]


def test_healthz_answers_plain_http_on_any_host(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["shop.example.com"]
    response = client.get("/healthz", headers={"Host": "10.0.3.7:8000"})
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    # Every other page still checks the host and redirects to HTTPS.
    assert client.get("/", headers={"Host": "10.0.3.7:8000"}).status_code == 400
    assert client.get("/", headers={"Host": "shop.example.com"}).status_code == 301


# --- Login throttle --------------------------------------------------------------------------


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        "merchant", password="right-password", is_staff=True
    )


def log_in(client, username, password, address="192.0.2.1"):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_login_is_refused_after_too_many_failures_for_a_username(client, staff, settings):
    for _ in range(settings.LOGIN_THROTTLE_USERNAME_FAILURES):
        response = log_in(client, "merchant", "guess")
        assert response.status_code == 200
        assert "Too many failed login attempts" not in response.content.decode()
    # Even the right password, from another address, is refused until the window has passed.
    response = log_in(client, "Merchant", "right-password", address="198.51.100.7")
    assert response.status_code == 200
    assert "Too many failed login attempts. Wait 15 minutes" in response.content.decode()
    assert not logged_in(client)


def test_login_is_refused_after_too_many_failures_from_an_address(client, staff, settings):
    for number in range(settings.LOGIN_THROTTLE_ADDRESS_FAILURES):
        log_in(client, f"someone-{number}", "guess")
    response = log_in(client, "merchant", "right-password")
    assert "Too many failed login attempts" in response.content.decode()
    assert not logged_in(client)
    # Another address is not held back by this one.
    response = log_in(client, "merchant", "right-password", address="198.51.100.7")
    assert response.status_code == 302
    assert logged_in(client)


def test_a_successful_login_forgets_the_usernames_failures(client, staff, settings):
    for _ in range(2):
        for _ in range(settings.LOGIN_THROTTLE_USERNAME_FAILURES - 1):
            log_in(client, "merchant", "guess")
        assert log_in(client, "merchant", "right-password").status_code == 302
        client.logout()


def test_client_address_trusts_only_the_proxies_it_is_told_of(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9"
    )
    settings.TRUSTED_PROXY_HOPS = 0
    assert client_address(request) == "10.0.0.2"
    # The proxy appended the address it saw; what the client sent before it can be forged.
    settings.TRUSTED_PROXY_HOPS = 1
    assert client_address(request) == "203.0.113.9"


# --- The policy in a real browser ------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="Debian's chromium is not installed"
)
def test_the_policy_blocks_nothing_the_shop_or_unfold_uses(live_server, page, admin_user):  # noqa: F811
    wine = WineFactory(name="Château Lagrézette")
    # With a photo: the catalog, the wine's page and the admin's preview load it.
    photo = wine_image_prepare(upload=ContentFile(photo_bytes()))
    wine_image_set(wine=wine, photo=photo)
    WineFactory(name="Without a photo")
    blocked = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.on("pageerror", lambda error: blocked.append(str(error)))
    for path in ("/", f"/wine/{wine.slug}/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        # The photo and the placeholder of the other wine: every image loaded.
        assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill(admin_user.username)
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    for path in (
        "/admin/",
        "/admin/shop/wine/",
        f"/admin/shop/wine/{wine.pk}/change/",
        "/admin/orders/order/",
        "/admin/django_celery_beat/periodictask/add/",
    ):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
    # Alpine.js ran: unfold's sidebar search box is rendered by it.
    assert page.evaluate("typeof window.Alpine") == "object"
    assert blocked == []
