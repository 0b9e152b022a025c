import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from coupons.models import Coupon, CouponBatch
from coupons.services import coupon_batch_create
from coupons.tests.factories import CouponFactory
from orders.services import order_expire
from orders.tests.factories import customer, place
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:coupons_coupon_changelist"


def _codes(response) -> set[str]:
    return {c.code for c in response.context["cl"].result_list}


def test_coupon_list_shows_uses_against_the_limit(admin_client):
    CouponFactory(code="LIMITED", max_uses=10, uses=3)
    CouponFactory(code="OPEN", max_uses=None, uses=7)
    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "3 / 10" in page and "7 / ∞" in page


def test_coupon_list_filters(admin_client):
    now = timezone.now()
    CouponFactory(code="CURRENT")
    CouponFactory(code="EXPIRED", valid_to=now - timedelta(days=1))
    CouponFactory(code="OFF", active=False)
    CouponFactory(code="GONE", max_uses=2, uses=2)
    batch = coupon_batch_create(name="Flyer", count=3, percent_off=5)

    def listed(**query):
        return _codes(admin_client.get(reverse(CHANGELIST), query))

    batch_codes = set(batch.coupons.values_list("code", flat=True))
    assert listed(valid_now="yes") == {"CURRENT", "GONE"} | batch_codes
    assert listed(valid_now="no") == {"EXPIRED", "OFF"}
    assert listed(used_up="yes") == {"GONE"}
    assert listed(active__exact="0") == {"OFF"}
    assert listed(batch__id__exact=str(batch.pk)) == batch_codes


def test_coupon_search_ignores_case(admin_client):
    CouponFactory(code="SUMMER10")
    CouponFactory(code="WINTER10")
    assert _codes(admin_client.get(reverse(CHANGELIST), {"q": " summer"})) == {"SUMMER10"}


def test_coupon_list_queries_do_not_grow_with_the_rows(admin_client, django_assert_max_num_queries):
    coupon_batch_create(name="Many", count=60, percent_off=5)
    with django_assert_max_num_queries(8):
        assert admin_client.get(reverse(CHANGELIST)).status_code == 200


def test_merchant_adds_a_coupon_in_any_case(admin_client):
    response = admin_client.post(
        reverse("admin:coupons_coupon_add"),
        {
            "code": "  easter25 ",
            "percent_off": "25",
            "valid_from_0": "2026-04-01",
            "valid_from_1": "00:00:00",
            "valid_to_0": "2026-04-30",
            "valid_to_1": "00:00:00",
            "max_uses": "100",
            "active": "on",
            "redemptions-TOTAL_FORMS": "0",
            "redemptions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert Coupon.objects.get().code == "EASTER25"


def test_the_limit_cannot_drop_below_the_uses(admin_client):
    coupon = CouponFactory(code="BUSY", max_uses=10, uses=6)
    response = admin_client.post(
        reverse("admin:coupons_coupon_change", args=[coupon.pk]),
        {
            "code": "BUSY",
            "percent_off": "10",
            "valid_from_0": "2026-01-01",
            "valid_from_1": "00:00:00",
            "max_uses": "5",
            "active": "on",
            "redemptions-TOTAL_FORMS": "0",
            "redemptions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "used 6 times already" in str(response.context["adminform"].form.errors)
    assert Coupon.objects.get().max_uses == 10


def test_duplicate_codes_are_refused_whatever_the_case(admin_client):
    CouponFactory(code="TWICE")
    response = admin_client.post(
        reverse("admin:coupons_coupon_add"),
        {
            "code": "twice",
            "percent_off": "10",
            "valid_from_0": "2026-01-01",
            "valid_from_1": "00:00:00",
            "active": "on",
            "redemptions-TOTAL_FORMS": "0",
            "redemptions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert Coupon.objects.count() == 1


def test_admin_pages_open(admin_client):
    coupon = CouponFactory()
    batch = coupon_batch_create(name="Pages", count=5, percent_off=5)
    for url in [
        reverse("admin:coupons_coupon_add"),
        reverse("admin:coupons_coupon_change", args=[coupon.pk]),
        reverse("admin:coupons_couponbatch_add"),
        reverse("admin:coupons_couponbatch_change", args=[batch.pk]),
        reverse("admin:coupons_couponbatch_changelist"),
    ]:
        assert admin_client.get(url).status_code == 200, url


def input_classes(page: str, name: str) -> set[str]:
    """Return the look of a form's input: its classes, less Django's vTextField-like markers."""
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
    classes = re.search(r'class="([^"]*)"', tag).group(1).split()
    return {name for name in classes if not re.fullmatch(r"v[A-Z]\w+", name)}


def test_the_batch_forms_number_fields_look_like_its_other_fields(admin_client):
    page = admin_client.get(reverse("admin:coupons_couponbatch_add")).content.decode()
    text_field = input_classes(page, "name")
    assert "border" in text_field
    for name in ["count", "code_length", "percent_off", "max_uses"]:
        assert input_classes(page, name) == text_field, name


def test_admin_creates_a_batch_and_shows_its_figures(admin_client):
    response = admin_client.post(
        reverse("admin:coupons_couponbatch_add"),
        {
            "name": "Newsletter", "prefix": "news-", "count": "40", "code_length": "8",
            "percent_off": "10", "valid_from_0": "2026-01-01", "valid_from_1": "00:00:00",
            "valid_to_0": "", "valid_to_1": "", "max_uses": "1",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.context["adminform"].form.errors
    batch = CouponBatch.objects.get()
    assert (batch.name, batch.prefix, batch.created_by) == (
        "Newsletter",
        "NEWS-",
        admin_client.user,
    )
    assert batch.coupons.count() == 40

    page = admin_client.get(reverse("admin:coupons_couponbatch_change", args=[batch.pk]))
    assert page.status_code == 200
    shown = page.context["original"]
    assert (shown.used_codes, shown.order_count, shown.discount_given) == (0, 0, None)
    listing = admin_client.get(reverse("admin:coupons_couponbatch_changelist"))
    assert b"Newsletter" in listing.content


def test_a_batch_shows_when_its_generation_started_and_finished_read_only(admin_client):
    batch = coupon_batch_create(name="Timed", count=5, percent_off=5)
    url = reverse("admin:coupons_couponbatch_change", args=[batch.pk])

    page = admin_client.get(url)

    text = page.content.decode()
    assert ">Started</label>" in text and ">Finished</label>" in text
    assert {"started_at", "finished_at"} <= set(page.context["adminform"].readonly_fields)
    admin_client.post(url, {"name": "Renamed", "started_at": "", "finished_at": ""})
    renamed = CouponBatch.objects.get()
    assert renamed.name == "Renamed"
    assert (renamed.started_at, renamed.finished_at) == (batch.started_at, batch.finished_at)


def test_admin_refuses_a_bad_batch_with_reasons(admin_client):
    response = admin_client.post(
        reverse("admin:coupons_couponbatch_add"),
        {"name": "", "prefix": "a b", "count": "200000", "code_length": "3", "percent_off": "0",
         "valid_from_0": "2026-01-01", "valid_from_1": "00:00:00", "max_uses": "-1"},
    )  # fmt: skip
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) >= {"name", "prefix", "count", "code_length", "percent_off", "max_uses"}
    assert CouponBatch.objects.count() == 0


def test_batch_codes_export_as_csv(admin_client):
    batch = coupon_batch_create(name="Export", count=30, percent_off=10, prefix="EXP")
    response = admin_client.get(reverse("admin:coupons_couponbatch_export_codes", args=[batch.pk]))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["code", "percent_off"]
    assert sorted(r[0] for r in rows[1:]) == sorted(batch.coupons.values_list("code", flat=True))


def test_batch_figures_count_kept_uses_only(admin_client):
    batch = coupon_batch_create(name="Figures", count=3, percent_off=10, max_uses=2)
    first, second = batch.coupons.order_by("code")[:2]
    wine = WineFactory(price="20.00", stock=20)
    kept = place(lines=[(wine.pk, 1)], customer=customer(), coupon_code=first.code)
    place(lines=[(wine.pk, 2)], customer=customer(), coupon_code=first.code)
    order_expire(
        order_id=place(lines=[(wine.pk, 1)], customer=customer(), coupon_code=second.code).pk
    )  # its use is given back

    page = admin_client.get(reverse("admin:coupons_couponbatch_change", args=[batch.pk]))

    shown = page.context["original"]
    assert (shown.used_codes, shown.order_count) == (1, 2)
    assert shown.discount_given == kept.discount + Decimal("4.00")
    assert "Codes used <strong>1</strong>" in page.content.decode()
