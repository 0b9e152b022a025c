"""Coupon use and batch generation: the only code that writes coupons."""

import math
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.codes import ALPHABET, random_code
from core.money import percent_of
from core.ratelimit import EVERYONE, Limit, Scope, count_attempt, refusal
from coupons.exceptions import CouponNotValid, TooManyAttempts
from coupons.models import Coupon, CouponBatch, CouponRedemption
from coupons.selectors import NOT_VALID, coupon_check, coupon_code_normalize, coupon_list_usable

# Codes are what a guesser is after: refuse while the counters are away (fail closed).
ATTEMPTS_PER_SESSION = Scope("coupon-session", fail_closed=True)
ATTEMPTS_PER_ADDRESS = Scope("coupon-address", fail_closed=True)
FAILURES_GLOBAL = Scope("coupon-global", fail_closed=True)
BATCH_MAX_CODES = 100_000
GENERATE_CHUNK = 5_000
# A code is unguessable when one try in a million at most hits any code of its batch.
GUESS_ODDS = 1_000_000


# What a merchant edits on a coupon; its uses move only by redemptions and their release.
COUPON_EDITABLE_FIELDS = ["code", "percent_off", "valid_from", "valid_to", "max_uses", "active"]


@transaction.atomic
def coupon_save(*, coupon: Coupon, fields: Iterable[str] | None = None) -> Coupon:
    """Save a coupon edited by a merchant, writing only the edited fields (all when None).

    Checkouts take uses with a conditional UPDATE while the form is open or being saved: writing
    back the uses the form loaded would give those uses back. A limit lowered below the uses
    taken meanwhile becomes those uses: the coupon is used up, as the merchant meant.
    """
    if coupon.pk is None:
        coupon.save()
        return coupon
    edited = [name for name in COUPON_EDITABLE_FIELDS if fields is None or name in fields]
    if edited:
        uses = Coupon.objects.select_for_update().values_list("uses", flat=True).get(pk=coupon.pk)
        if "max_uses" in edited and coupon.max_uses is not None and coupon.max_uses < uses:
            coupon.max_uses = uses
        coupon.save(update_fields=edited)
    coupon.refresh_from_db(fields=["uses"])
    return coupon


@transaction.atomic
def coupon_redeem(*, code: str, order_id: int, subtotal: Decimal) -> CouponRedemption:
    """Use the coupon on a new order: take one use and record the discount on subtotal.

    Called by orders as it places the order, inside that transaction; the order's totals are
    orders' to write. The use is taken by one conditional UPDATE, so of many concurrent orders
    no more than max_uses get it, whatever the interleaving.
    """
    code = coupon_code_normalize(code)
    if not code or not coupon_list_usable().filter(code=code).update(uses=F("uses") + 1):
        coupon_check(code=code)  # says why it was refused
        raise CouponNotValid(str(NOT_VALID))  # usable again: it changed while we looked
    coupon = Coupon.objects.get(code=code)
    return CouponRedemption.objects.create(
        coupon=coupon,
        order_id=order_id,
        percent_off=coupon.percent_off,
        discount=percent_of(subtotal, coupon.percent_off),
    )


@transaction.atomic
def coupon_release(*, order_id: int) -> CouponRedemption | None:
    """Give back the coupon use of an order that went unpaid; return the redemption released,
    or None when the order had none or it was given back already.

    The redemption is marked released by a conditional UPDATE, so the use comes back once even
    if two processes release the same order.
    """
    released = CouponRedemption.objects.filter(order_id=order_id, released_at__isnull=True).update(
        released_at=timezone.now()
    )
    if not released:
        return None
    redemption = CouponRedemption.objects.select_related("coupon").get(order_id=order_id)
    Coupon.objects.filter(pk=redemption.coupon_id).update(uses=F("uses") - 1)
    return redemption


def coupon_code_min_length(*, count: int, alphabet_size: int) -> int:
    """Return the shortest random part that keeps count codes unguessable (see GUESS_ODDS)."""
    return math.ceil(math.log(count * GUESS_ODDS, alphabet_size))


def coupon_batch_create(
    *,
    name: str,
    count: int,
    percent_off: int,
    prefix: str = "",
    code_length: int = 10,
    alphabet: str = ALPHABET,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    max_uses: int | None = 1,
    created_by=None,
    background: bool | None = None,
    on_progress=None,
) -> CouponBatch:
    """Record a batch and generate its codes, by a worker after commit when background.

    By default, batches above COUPON_BATCH_SYNC_MAX codes go to a worker, the rest are made here.
    """
    from coupons import tasks

    batch = CouponBatch.objects.create(
        name=name,
        prefix=coupon_code_normalize(prefix),
        count=count,
        code_length=code_length,
        alphabet=alphabet,
        percent_off=percent_off,
        valid_from=valid_from or timezone.now(),
        valid_to=valid_to,
        max_uses=max_uses,
        created_by=created_by,
    )
    if background is None:
        background = count > settings.COUPON_BATCH_SYNC_MAX
    if background:
        transaction.on_commit(lambda: tasks.coupon_batch_generate.delay(batch.pk))
        return batch
    return coupon_batch_generate(batch_id=batch.pk, on_progress=on_progress)


def coupon_batch_generate(*, batch_id: int, on_progress=None) -> CouponBatch:
    """Create the batch's missing codes in chunks; safe to run again after a crash.

    Codes are random and unique: a chunk is inserted ignoring codes that exist already (in
    this batch or any other), then counted, and the shortfall drawn again. The batch says when
    the work started and when it finished, done or failed.
    """
    batch = CouponBatch.objects.get(pk=batch_id)
    if batch.status == CouponBatch.Status.DONE:
        return batch
    CouponBatch.objects.filter(pk=batch_id).update(
        status=CouponBatch.Status.RUNNING, error="", started_at=timezone.now(), finished_at=None
    )
    try:
        made = _batch_codes_draw(batch, on_progress=on_progress)
    except OperationalError:
        raise  # the database went away for a moment: the task runs again from where it stopped
    except Exception as error:
        coupon_batch_fail(batch_id=batch_id, error=str(error) or type(error).__name__)
        raise
    CouponBatch.objects.filter(pk=batch_id).update(
        status=CouponBatch.Status.DONE, generated=made, finished_at=timezone.now()
    )
    batch.refresh_from_db()
    return batch


def _batch_codes_draw(batch: CouponBatch, *, on_progress) -> int:
    """Insert codes until the batch has its count; return how many it has."""
    made = batch.coupons.count()
    fruitless = 0
    while made < batch.count:
        wanted = min(GENERATE_CHUNK, batch.count - made)
        codes = set()
        while len(codes) < wanted:
            codes.add(batch.prefix + random_code(batch.code_length, batch.alphabet))
        Coupon.objects.bulk_create(
            [
                Coupon(
                    code=code,
                    percent_off=batch.percent_off,
                    valid_from=batch.valid_from,
                    valid_to=batch.valid_to,
                    max_uses=batch.max_uses,
                    batch=batch,
                )
                for code in codes
            ],
            ignore_conflicts=True,
            batch_size=1_000,
        )
        before, made = made, batch.coupons.count()
        fruitless = fruitless + 1 if made == before else 0
        if fruitless == 3:
            raise RuntimeError("No new codes could be drawn: use longer codes or another prefix.")
        CouponBatch.objects.filter(pk=batch.pk).update(generated=made)
        if on_progress:
            on_progress(made, batch.count)
    return made


def coupon_batch_rename(*, batch_id: int, name: str) -> None:
    """Rename a batch: the one thing that may change once its codes exist."""
    CouponBatch.objects.filter(pk=batch_id).update(name=name)


def coupon_batch_fail(*, batch_id: int, error: str) -> None:
    """Record that the batch's generation failed, why and when."""
    CouponBatch.objects.filter(pk=batch_id).update(
        status=CouponBatch.Status.FAILED, error=error, finished_at=timezone.now()
    )


def coupon_try(*, code: str, session_key: str, address: str) -> Coupon:
    """Check a code a visitor typed, counting failures per session (when the visitor has one),
    per client address group and for all visitors together.

    Past any limit no code is looked up at all, so guessing gets nowhere by brute force, from
    one address or from many; while the cache holding the counts is away, none is either.
    """
    limits = [
        Limit(ATTEMPTS_PER_ADDRESS, address, settings.COUPON_ATTEMPTS_PER_ADDRESS),
        Limit(FAILURES_GLOBAL, EVERYONE, settings.COUPON_FAILURES_GLOBAL),
    ]
    if session_key:
        per_session = settings.COUPON_ATTEMPTS_PER_SESSION
        limits.append(Limit(ATTEMPTS_PER_SESSION, session_key, per_session))
    refused = refusal(limits)
    if refused and refused.cache_away:
        raise TooManyAttempts(
            _("Coupon codes can't be checked for a moment. Please try again shortly."),
            retry_after=refused.seconds,
        )
    if refused:
        raise TooManyAttempts(
            _("Too many coupon codes tried. Please wait before trying again."),
            retry_after=refused.seconds,
        )
    try:
        return coupon_check(code=code)
    except CouponNotValid:
        count_attempt(limits, window_seconds=settings.COUPON_ATTEMPTS_WINDOW_MINUTES * 60)
        raise
