import pytest

from coupons import tasks
from coupons.models import Coupon, CouponBatch
from coupons.services import coupon_batch_create

pytestmark = pytest.mark.django_db


def test_a_large_batch_is_generated_by_a_worker_task(settings, django_capture_on_commit_callbacks):
    settings.COUPON_BATCH_SYNC_MAX = 100
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        batch = coupon_batch_create(name="Big", count=101, percent_off=20)
        assert batch.coupons.count() == 0  # nothing before the commit
    assert len(callbacks) == 1
    batch.refresh_from_db()
    assert (batch.status, batch.generated) == (CouponBatch.Status.DONE, 101)
    assert batch.created <= batch.started_at <= batch.finished_at


def test_a_batch_the_task_cannot_finish_is_failed_with_its_reason_and_end():
    # Every code of two letters A and B is taken already.
    Coupon.objects.bulk_create(
        Coupon(code=code, percent_off=5) for code in ["AA", "AB", "BA", "BB"]
    )
    batch = CouponBatch.objects.create(
        name="Full", count=1, code_length=2, alphabet="AB", percent_off=5,
        valid_from="2026-01-01T00:00Z",
    )  # fmt: skip

    result = tasks.coupon_batch_generate.apply(args=[batch.pk])

    assert result.failed()
    batch.refresh_from_db()
    assert batch.status == CouponBatch.Status.FAILED
    assert batch.error.startswith("No new codes could be drawn")
    assert batch.started_at <= batch.finished_at
