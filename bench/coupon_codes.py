"""Coupon generation: a batch of 100,000 codes against a plain bulk_create of the same rows.

Run by bench/run.py in a subprocess with the bench's database; prints nothing itself.
"""

import statistics
import time

from django.db import transaction

CODES = 100_000
ROUNDS = 3  # alternating runs of both; the median counts


def _plain_bulk_create(codes: list[str]) -> float:
    from coupons.models import Coupon

    started = time.perf_counter()
    with transaction.atomic():
        Coupon.objects.bulk_create(
            [Coupon(code=code, percent_off=10, max_uses=1) for code in codes], batch_size=1_000
        )
    return time.perf_counter() - started


def _batch(round_number: int) -> tuple[float, int, int]:
    from coupons.services import coupon_batch_create

    started = time.perf_counter()
    batch = coupon_batch_create(
        name=f"bench {round_number}",
        count=CODES,
        percent_off=10,
        prefix="B",
        code_length=10,
        background=False,
    )
    seconds = time.perf_counter() - started
    codes = batch.coupons.values_list("code", flat=True)
    return seconds, codes.count(), codes.distinct().count()


def generate_coupons(count: str = str(CODES)) -> dict:
    """Return seconds for the batch and for the plain insert, and the uniqueness checks."""
    from core.codes import random_code
    from coupons.models import Coupon, CouponBatch

    global CODES
    CODES = int(count)
    batch_times, plain_times, checks = [], [], []
    for round_number in range(ROUNDS):
        Coupon.objects.all().delete()
        CouponBatch.objects.all().delete()
        codes = list({f"P{random_code(10)}" for _ in range(CODES)})
        plain_times.append(_plain_bulk_create(codes))
        Coupon.objects.all().delete()
        seconds, made, distinct = _batch(round_number)
        batch_times.append(seconds)
        checks.append((made, distinct))
    Coupon.objects.all().delete()
    CouponBatch.objects.all().delete()
    return {
        "codes": CODES,
        "batch": statistics.median(batch_times),
        "plain": statistics.median(plain_times),
        "made": [made for made, _ in checks],
        "distinct": [distinct for _, distinct in checks],
    }
