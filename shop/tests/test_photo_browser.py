"""A merchant's photo in Debian's Chromium, under production settings: uploaded in the admin of
one web process, shown by another that shares only the database and the cache.

Two gunicorn processes with the Procfile's command and production's environment (DEBUG off,
whitenoise) stand for two web replicas, each with its own disk. The browser plays the TLS proxy
too: it sends X-Forwarded-Proto: https, as the proxy in front of gunicorn does.
"""

import os

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from backoffice.tests.production import ProcfileProcess, manage, production_env, shared_cache_url
from backoffice.tests.test_flower import free_port
from backoffice.tests.workers import database_url, wait_for
from shop.models import Wine
from shop.tests.factories import WineFactory, photo_bytes
from shop.tests.test_browser import CHROMIUM, page  # noqa: F401 - the browser fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        CHROMIUM is None and not os.environ.get("CI"), reason="Debian's chromium is not installed"
    ),
]


class Replica:
    """One web process with production's settings; stopped even on failure."""

    def __init__(self, folder, *, port: int, env: dict, name: str):
        self.url = f"http://127.0.0.1:{port}"
        self.process = ProcfileProcess(
            "web",
            env=env | {"GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1"},
            log=folder / f"{name}.log",
        )

    def answers(self) -> bool:
        assert self.process.process.poll() is None, self.process.output()
        try:
            requests.get(f"{self.url}/healthz", timeout=10)
        except (requests.ConnectionError, requests.Timeout):
            return False
        return True


@pytest.fixture
def replicas(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the production stack runs on PostgreSQL (DATABASE_URL=postgres://...)")
    ports = [free_port(), free_port()]
    env = production_env(
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        # The browser posts from each replica's own address, the Origin the CSRF check compares.
        DJANGO_CSRF_TRUSTED_ORIGINS=",".join(f"http://127.0.0.1:{port}" for port in ports),
        DATABASE_URL=database_url(),
        CACHE_URL=shared_cache_url(tmp_path),
        CELERY_BROKER_URL="filesystem://",
        CELERY_BROKER_DIR=str(tmp_path / "broker"),
        STATIC_ROOT=str(tmp_path / "static"),
        EMAIL_URL="filemail://",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
        STRIPE_SECRET_KEY="",
        STRIPE_WEBHOOK_SECRET="whsec_photo_test_" + os.urandom(8).hex(),
    )
    for command in (["collectstatic", "--noinput"], ["prepare_broker"]):
        result = manage(*command, env=env)
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
    started = []
    try:
        for name, port in zip(["first", "second"], ports, strict=True):
            # Each replica has a disk of its own: a photo kept there would be missing on the other.
            disk = {"MEDIA_ROOT": str(tmp_path / f"disk-of-the-{name}")}
            started.append(Replica(tmp_path, port=port, env=env | disk, name=name))
        for replica in started:
            wait_for(replica.answers, timeout=60, what="gunicorn to answer")
        yield started
    finally:
        for replica in started:
            replica.process.stop()
            print(replica.process.output()[-3000:])  # shown by pytest when the test failed


def test_a_photo_uploaded_on_one_replica_shows_on_the_other(
    replicas,
    page,  # noqa: F811
    django_user_model,
    tmp_path,
    settings,
):
    first, second = replicas
    wine = WineFactory(name="Barolo Monfalletto", vintage=2019)
    WineFactory(name="Clos Sans Photo")  # shown with the placeholder
    hasher = PBKDF2PasswordHasher()  # as production hashes
    django_user_model.objects.create(
        username="merchant",
        password=hasher.encode("a-long-merchant-password", hasher.salt()),
        is_staff=True,
        is_superuser=True,
    )
    # Taken with the camera turned: the file's pixels lie on their side, EXIF says so.
    photo = tmp_path / "barolo.jpg"
    photo.write_bytes(photo_bytes((1800, 1200), orientation=6))
    page.set_extra_http_headers({"X-Forwarded-Proto": "https"})

    page.goto(f"{first.url}/admin/login/")
    page.get_by_label("Username").fill("merchant")
    page.get_by_label("Password").fill("a-long-merchant-password")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{first.url}/admin/shop/wine/{wine.pk}/change/")
    page.set_input_files("input[name=photo]", str(photo))
    page.locator("button[name=_continue]").click()
    page.wait_for_selector("img[alt='Photo of Barolo Monfalletto']")
    wine = Wine.objects.get(pk=wine.pk)
    assert wine.thumbnail, "the admin stored no photo"
    folder = settings.VAR_DIR / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "admin-wine-photo.png"), full_page=True)

    # The shop on the other replica: its page, and the photo, come from the shared database.
    with page.expect_response(lambda r: "/media/" in r.url) as photo_response:
        page.goto(f"{second.url}/")
    thumbnail = page.get_by_role("img", name="Bottle of Barolo Monfalletto")
    thumbnail.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
    )
    size = thumbnail.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert size == [320, 480]  # upright, the card's size
    response = photo_response.value
    assert response.url == f"{second.url}/media/{wine.thumbnail.name}"
    assert response.status == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-type"] == "image/webp"
    assert response.headers["etag"] and response.headers["last-modified"]
    page.screenshot(path=str(folder / "catalog-wine-photo.png"), full_page=True)

    # A copy kept by a cache is confirmed by either replica without sending it again.
    again = requests.get(
        f"{first.url}/media/{wine.thumbnail.name}",
        headers={"X-Forwarded-Proto": "https", "If-None-Match": response.headers["etag"]},
        timeout=10,
    )
    assert again.status_code == 304
    # The wine's page shows the larger size, as the browser loads it.
    page.goto(f"{second.url}{wine.get_absolute_url()}")
    detail = page.get_by_role("img", name="Bottle of Barolo Monfalletto 2019")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=detail.element_handle()
    )
    assert detail.evaluate("img => img.naturalWidth") == 800
    page.screenshot(path=str(folder / "wine-page-photo.png"), full_page=True)
