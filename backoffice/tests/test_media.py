import pytest
from django.core.files.base import ContentFile
from hypothesis import given
from hypothesis import strategies as st

from backoffice.security import content_security_policy
from core.storage import media_storage, private_storage
from shop.images import photo_render
from shop.tests.factories import photo_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo():
    """A card-sized photo in public media, under its content-hashed name."""
    rendition = photo_render(ContentFile(photo_bytes())).card
    name = media_storage().save(rendition.name, ContentFile(rendition.data))
    return name, rendition.data


def test_a_photo_is_served_with_a_year_of_caching(client, photo):
    name, data = photo

    response = client.get(f"/media/{name}")

    assert response.status_code == 200
    assert response.content == data
    assert response["Content-Type"] == "image/webp"
    assert response["Content-Length"] == str(len(data))
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["ETag"].startswith('"') and response["Last-Modified"].endswith("GMT")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in response


def test_a_cached_copy_is_confirmed_with_304_and_no_body(client, photo):
    name, _ = photo
    first = client.get(f"/media/{name}")

    by_tag = client.get(f"/media/{name}", headers={"If-None-Match": first["ETag"]})
    by_date = client.get(f"/media/{name}", headers={"If-Modified-Since": first["Last-Modified"]})
    stale = client.get(f"/media/{name}", headers={"If-None-Match": '"something-else"'})

    for response in (by_tag, by_date):
        assert response.status_code == 304
        assert response.content == b""
        assert response["ETag"] == first["ETag"]
        assert response["Cache-Control"] == first["Cache-Control"]
    assert stale.status_code == 200


def test_head_answers_the_headers_and_posts_are_refused(client, photo):
    name, data = photo
    head = client.head(f"/media/{name}")
    assert head.status_code == 200
    assert head.content == b""
    assert head["Content-Type"] == "image/webp"
    assert head["Content-Length"] == str(len(data))
    assert head["ETag"] == client.get(f"/media/{name}")["ETag"]
    assert client.post(f"/media/{name}").status_code == 405


def test_a_name_without_a_content_hash_is_revalidated_hourly(client):
    media_storage().save("wines/label.png", ContentFile(photo_bytes(fmt="PNG")))

    response = client.get("/media/wines/label.png")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "public, max-age=3600"


def test_private_files_are_never_served(client):
    private_storage().save("invoices/INV-2026-000001.pdf", ContentFile(b"%PDF-invoice"))
    private_storage().save("reports/sales.png", ContentFile(photo_bytes(fmt="PNG")))

    for path in (
        "invoices/INV-2026-000001.pdf",
        "reports/sales.png",
        "public/reports/sales.png",
        "../reports/sales.png",
        "wines/../../reports/sales.png",
        "wines/%2e%2e/%2e%2e/reports/sales.png",
    ):
        assert client.get(f"/media/{path}").status_code == 404, path


@pytest.mark.parametrize(
    "path",
    [
        "",
        "wines/",
        "wines/a.svg",
        "wines/a.html",
        "wines/a.webp%00.png",
        "wines/%00.webp",
        "wines/a\\b.webp",
        "wines//a.webp",
        "/etc/passwd",
        "wines/" + "a" * 5000 + ".webp",
        "wines/%ff%fe.webp",
        "wines/a.webp?x=../../",
        "wines/nothing-here.webp",
    ],
)
def test_hostile_and_unknown_names_answer_404(client, settings, path):
    settings.DEBUG = False
    assert client.get(f"/media/{path}").status_code == 404


@given(path=st.text(max_size=300))
def test_no_name_answers_anything_but_404(client, path):
    from urllib.parse import quote

    assert client.get("/media/" + quote(path, safe="/")).status_code == 404


def test_the_shop_policy_allows_photos_from_our_own_origin():
    directives = dict(d.split(" ", 1) for d in content_security_policy(admin=False).split("; "))
    assert "'self'" in directives["img-src"].split()
