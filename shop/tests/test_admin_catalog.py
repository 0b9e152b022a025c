from decimal import Decimal

import pytest
from django.test import Client
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


def upload(data: bytes, name: str = "bottle.jpg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def test_admin_photo_upload_stores_the_catalog_sizes_not_the_upload(admin_client):
    from core.models import StoredFile
    from shop.tests.factories import photo_bytes

    wine = WineFactory()
    url = reverse("admin:shop_wine_change", args=[wine.pk])
    original = photo_bytes((2400, 3600), orientation=1)

    response = admin_client.post(url, wine_form(wine, photo=upload(original)))

    assert response.status_code == 302, response.content.decode()
    wine.refresh_from_db()
    assert (wine.thumbnail_width, wine.thumbnail_height) == (320, 480)
    assert (wine.image_width, wine.image_height) == (800, 1200)
    assert wine.image.name.endswith(".webp")
    assert StoredFile.objects.filter(name__startswith="public/wines/").count() == 2
    assert not StoredFile.objects.filter(content=original).exists()
    # The form shows the photo as the catalog will.
    page = admin_client.get(url).content.decode()
    assert f'src="{wine.thumbnail.url}"' in page


def test_admin_edit_without_a_new_photo_keeps_it_and_clear_removes_it(admin_client):
    from shop.services import wine_image_prepare, wine_image_set
    from shop.tests.factories import photo_bytes

    wine = WineFactory()
    wine_image_set(wine=wine, photo=wine_image_prepare(upload=upload(photo_bytes())))
    url = reverse("admin:shop_wine_change", args=[wine.pk])

    assert admin_client.post(url, wine_form(wine, name="Renamed")).status_code == 302
    wine.refresh_from_db()
    assert wine.name == "Renamed" and wine.thumbnail

    assert admin_client.post(url, wine_form(wine, **{"photo-clear": "on"})).status_code == 302
    wine.refresh_from_db()
    assert not wine.image and not wine.thumbnail and wine.thumbnail_width is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.7 an invoice", "not a photo we can read"),
        (None, "photos may have up to 40,000,000 pixels"),
    ],
    ids=["not-an-image", "decompression-bomb"],
)
def test_admin_refuses_a_bad_photo_with_a_clear_error_and_saves_nothing(
    admin_client, data, message
):
    from shop.tests.factories import png_header

    wine = WineFactory(name="Before")
    url = reverse("admin:shop_wine_change", args=[wine.pk])
    data = data or png_header(8_000, 8_000)

    response = admin_client.post(url, wine_form(wine, name="After", photo=upload(data, "x.png")))

    assert response.status_code == 200
    assert message in response.content.decode()
    wine.refresh_from_db()
    assert wine.name == "Before" and not wine.image


def test_admin_adds_a_wine_with_its_photo(admin_client):
    from shop.tests.factories import photo_bytes

    other = WineFactory()  # its category, country and region serve the new wine
    url = reverse("admin:shop_wine_add")
    assert "No photo yet." in admin_client.get(url).content.decode()

    data = wine_form(other, sku="NEW-1", slug="new-1", photo=upload(photo_bytes()))
    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()
    assert Wine.objects.get(sku="NEW-1").thumbnail_width == 320


def _admin_form_data(response) -> dict:
    """Return what the admin change form would post back unchanged."""
    form = response.context["adminform"].form
    data = {}
    for bound in form:
        value = bound.value()
        if isinstance(value, bool):
            if value:
                data[bound.html_name] = "on"
        elif value is not None and bound.name != "image":
            data[bound.html_name] = value
    return data


def test_admin_price_edit_shows_on_the_cached_list(
    admin_client, django_capture_on_commit_callbacks
):
    wine = WineFactory(price=Decimal("12.50"))
    shopper = Client()
    assert "€12.50" in shopper.get(reverse("shop:wine_list")).content.decode()
    url = reverse("admin:shop_wine_change", args=[wine.pk])
    data = {**_admin_form_data(admin_client.get(url)), "price": "15.00", "_save": "Save"}

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, data)

    assert response.status_code == 302
    page = shopper.get(reverse("shop:wine_list")).content.decode()
    assert "€15.00" in page
    assert "€12.50" not in page


def test_the_wine_search_and_the_region_picker_ignore_accents(admin_client):
    wine = WineFactory(name="Château Lagrézette", producer="Lefèvre")
    WineFactory(name="Clos Marguerite")
    listed = admin_client.get(reverse("admin:shop_wine_changelist"), {"q": "LAGREZETTE lefevre"})
    assert list(listed.context["cl"].result_list) == [wine]
    region = RegionFactory(name="Côtes du Rhône")
    picked = admin_client.get(
        reverse("admin:autocomplete"),
        {"term": "cotes", "app_label": "shop", "model_name": "wine", "field_name": "region"},
    )
    assert [result["id"] for result in picked.json()["results"]] == [str(region.pk)]


@pytest.mark.parametrize("field", ["category", "country", "region"])
def test_the_pickers_list_in_the_models_order_with_wine_counts(admin_client, recwarn, field):
    RegionFactory(name="Médoc")
    RegionFactory(name="Barolo")
    picked = admin_client.get(
        reverse("admin:autocomplete"),
        {"term": "", "app_label": "shop", "model_name": "wine", "field_name": field},
    )
    model = Wine._meta.get_field(field).related_model
    assert [result["text"] for result in picked.json()["results"]] == [
        str(place) for place in model.objects.all()
    ]
    assert not [w for w in recwarn if w.category.__name__ == "UnorderedObjectListWarning"]
