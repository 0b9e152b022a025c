from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coupons.exceptions import CouponNotValid
from coupons.models import Coupon, CouponBatch

# The same words for a code that never existed, one that expired and one that was switched off,
# so that trying codes tells a guesser nothing.
NOT_VALID = gettext_lazy("This coupon code is not valid or has expired.")
USED_UP = gettext_lazy("This coupon code has reached its usage limit.")


def coupon_code_normalize(raw: str) -> str:
    """Return the code as stored: surrounding spaces dropped, in capitals."""
    return raw.strip().upper()


def coupon_valid_q(now=None) -> Q:
    """Return the condition of coupons that are switched on and within their dates."""
    now = now or timezone.now()
    return Q(active=True, valid_from__lte=now) & (Q(valid_to__isnull=True) | Q(valid_to__gt=now))


def coupon_list_usable(*, now=None) -> QuerySet[Coupon]:
    """Return the coupons a customer can use right now: valid, with uses left."""
    return Coupon.objects.filter(
        coupon_valid_q(now), Q(max_uses__isnull=True) | Q(uses__lt=F("max_uses"))
    )


def coupon_refusal(coupon: Coupon | None, *, now=None) -> str:
    """Return why coupon can't be used now, or "" when it can."""
    now = now or timezone.now()
    if coupon is None or not coupon.active or (coupon.valid_to and coupon.valid_to <= now):
        return str(NOT_VALID)
    if coupon.valid_from > now:
        local = timezone.localtime(coupon.valid_from)
        return _("This coupon code can be used from %(date)s.") % {
            "date": date_format(local, "DATETIME_FORMAT")
        }
    if coupon.max_uses is not None and coupon.uses >= coupon.max_uses:
        return str(USED_UP)
    return ""


def coupon_check(*, code: str) -> Coupon:
    """Return the coupon of that code if it can be used now, else raise CouponNotValid."""
    coupon = (
        Coupon.objects.filter(code=coupon_code_normalize(code)).first() if code.strip() else None
    )
    problem = coupon_refusal(coupon)
    if problem:
        raise CouponNotValid(problem)
    return coupon


def coupon_batch_figures(batches: QuerySet[CouponBatch]) -> QuerySet[CouponBatch]:
    """Annotate each batch with its codes used, orders and discount given, in one query.

    A use given back (the order went unpaid) counts neither as an order nor as discount.
    """
    kept = Q(coupons__redemptions__isnull=False, coupons__redemptions__released_at__isnull=True)
    return batches.annotate(
        used_codes=Count("coupons", filter=Q(coupons__uses__gt=0), distinct=True),
        order_count=Count("coupons__redemptions", filter=kept, distinct=True),
        discount_given=Sum("coupons__redemptions__discount", filter=kept),
    )


CODE_COLUMNS = ["code", "percent_off", "valid_from", "valid_to", "max_uses", "uses", "active"]


def coupon_batch_code_rows(*, batch: CouponBatch):
    """Return the batch's codes as rows of CODE_COLUMNS, by code."""
    return batch.coupons.order_by("code").values_list(*CODE_COLUMNS)
