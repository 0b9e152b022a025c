import csv
import io
import re
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from core.codes import ALPHABET
from coupons.models import Coupon, CouponBatch
from coupons.services import coupon_batch_create, coupon_batch_generate, min_code_length
from orders.services import order_expire, order_place
from orders.tests.factories import customer
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db


def test_a_batch_makes_unique_codes_of_the_alphabet_with_its_prefix():
    batch = coupon_batch_create(
        name="Spring", count=1_500, percent_off=15, prefix="spr-", code_length=8
    )

    codes = list(batch.coupons.values_list("code", flat=True))
    assert batch.status == CouponBatch.Status.DONE
    assert batch.generated == len(codes) == len(set(codes)) == 1_500
    pattern = re.compile(rf"SPR-[{ALPHABET}]{{8}}")
    assert all(pattern.fullmatch(code) for code in codes)
    assert set(batch.coupons.values_list("percent_off", "max_uses")) == {(15, 1)}


def test_collisions_are_drawn_again_until_the_count_is_reached():
    # Two letters, three places: eight codes in all, so most draws collide.
    batch = coupon_batch_create(name="Tiny", count=8, percent_off=5, code_length=3, alphabet="AB")
    assert sorted(batch.coupons.values_list("code", flat=True)) == [
        "AAA", "AAB", "ABA", "ABB", "BAA", "BAB", "BBA", "BBB",
    ]  # fmt: skip


def test_codes_taken_by_another_batch_are_never_reused_and_an_exhausted_space_fails():
    coupon_batch_create(name="First", count=4, percent_off=5, code_length=2, alphabet="AB")
    with pytest.raises(RuntimeError, match="No new codes"):
        coupon_batch_create(name="Second", count=1, percent_off=5, code_length=2, alphabet="AB")
    assert Coupon.objects.count() == 4


def test_generation_resumes_where_an_interrupted_run_stopped():
    batch = CouponBatch.objects.create(
        name="Half", count=300, code_length=10, alphabet=ALPHABET, percent_off=10,
        valid_from="2026-01-01T00:00Z", max_uses=1,
    )  # fmt: skip
    Coupon.objects.bulk_create(
        Coupon(code=f"X{i:09d}", percent_off=10, batch=batch) for i in range(120)
    )
    seen = []

    batch = coupon_batch_generate(
        batch_id=batch.pk, on_progress=lambda made, total: seen.append(made)
    )

    assert batch.coupons.count() == 300
    assert seen == [300]
    assert coupon_batch_generate(batch_id=batch.pk).coupons.count() == 300  # done: nothing more


def test_a_large_batch_is_generated_by_a_worker_task(settings, django_capture_on_commit_callbacks):
    settings.COUPON_BATCH_SYNC_MAX = 100
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        batch = coupon_batch_create(name="Big", count=101, percent_off=20)
        assert batch.coupons.count() == 0  # nothing before the commit
    assert len(callbacks) == 1
    batch.refresh_from_db()
    assert (batch.status, batch.generated) == (CouponBatch.Status.DONE, 101)


@pytest.mark.parametrize(("count", "shortest"), [(1, 4), (1_000, 6), (100_000, 8)])
def test_codes_are_long_enough_to_stay_unguessable(count, shortest):
    assert min_code_length(count=count, alphabet_size=32) == shortest
    assert 32**shortest >= count * 1_000_000 > 32 ** (shortest - 1)


def test_the_command_generates_a_batch(capsys):
    call_command(
        "generate_coupons", "--name", "Fair", "--count", "250", "--percent", "12",
        "--prefix", "FAIR", "--length", "8", "--max-uses", "2",
    )  # fmt: skip
    batch = CouponBatch.objects.get()
    assert batch.coupons.count() == 250
    assert set(batch.coupons.values_list("max_uses", flat=True)) == {2}
    out = capsys.readouterr()
    assert "250 codes, 12 % off" in out.out and "250 / 250 codes" in out.err


def test_the_command_refuses_guessable_codes():
    with pytest.raises(CommandError, match="use at least 8"):
        call_command("generate_coupons", "--name", "X", "--count", "100000", "--percent", "5",
                     "--length", "6")  # fmt: skip
    assert CouponBatch.objects.count() == 0


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
    kept = order_place(lines=[(wine.pk, 1)], customer=customer(), coupon_code=first.code)
    order_place(lines=[(wine.pk, 2)], customer=customer(), coupon_code=first.code)
    order_expire(
        order_id=order_place(lines=[(wine.pk, 1)], customer=customer(), coupon_code=second.code).pk
    )  # its use is given back

    page = admin_client.get(reverse("admin:coupons_couponbatch_change", args=[batch.pk]))

    shown = page.context["original"]
    assert (shown.used_codes, shown.order_count) == (1, 2)
    assert shown.discount_given == kept.discount + Decimal("4.00")
    assert "Codes used <strong>1</strong>" in page.content.decode()
