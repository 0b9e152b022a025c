from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone

from core.models import JobStatus


class CouponBatch(models.Model):
    """Codes generated together for one promotion, with the settings they were made with."""

    Status = JobStatus

    name = models.CharField("name", max_length=100)
    prefix = models.CharField("prefix", max_length=12, blank=True)
    count = models.PositiveIntegerField("number of codes")
    code_length = models.PositiveSmallIntegerField("random characters per code")
    alphabet = models.CharField("alphabet", max_length=64)
    percent_off = models.PositiveSmallIntegerField("discount (%)")
    valid_from = models.DateTimeField("valid from")
    valid_to = models.DateTimeField("valid to", null=True, blank=True)
    max_uses = models.PositiveIntegerField("uses per code", null=True, blank=True)
    status = models.CharField(
        "status", max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    generated = models.PositiveIntegerField("codes generated", default=0)
    error = models.TextField("error", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name="created by",
    )
    created = models.DateTimeField("created", auto_now_add=True)
    started_at = models.DateTimeField("started", null=True, blank=True, editable=False)
    finished_at = models.DateTimeField("finished", null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = "coupon batch"
        verbose_name_plural = "coupon batches"

    def __str__(self):
        return self.name


class Coupon(models.Model):
    code = models.CharField(
        "code",
        max_length=40,
        unique=True,
        help_text="Stored in capitals; customers may type it in any case.",
    )
    percent_off = models.PositiveSmallIntegerField(
        "discount (%)", validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    valid_from = models.DateTimeField("valid from", default=timezone.now)
    valid_to = models.DateTimeField("valid to", null=True, blank=True, help_text="Blank: no end.")
    max_uses = models.PositiveIntegerField(
        "usage limit", null=True, blank=True, help_text="Blank: unlimited."
    )
    uses = models.PositiveIntegerField("uses", default=0, editable=False)
    active = models.BooleanField("active", default=True)
    batch = models.ForeignKey(
        CouponBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="coupons",
        verbose_name="batch",
    )
    created = models.DateTimeField("created", auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = "coupon"
        verbose_name_plural = "coupons"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(percent_off__gte=1, percent_off__lte=100),
                name="coupon_percent_1_100",
            ),
            # The last line of defence: no coupon can be used more often than its limit.
            models.CheckConstraint(
                condition=models.Q(max_uses__isnull=True)
                | models.Q(uses__lte=models.F("max_uses")),
                name="coupon_uses_within_limit",
            ),
            models.CheckConstraint(
                condition=models.Q(code=Upper("code")), name="coupon_code_upper"
            ),
        ]

    def __str__(self):
        return self.code


class CouponRedemption(models.Model):
    """One use of a coupon, recorded on the order that used it; released if it goes unpaid."""

    coupon = models.ForeignKey(
        Coupon, on_delete=models.PROTECT, related_name="redemptions", verbose_name="coupon"
    )
    order = models.OneToOneField(
        "orders.Order",
        on_delete=models.CASCADE,
        related_name="coupon_redemption",
        verbose_name="order",
    )
    percent_off = models.PositiveSmallIntegerField("discount (%)")
    discount = models.DecimalField("discount", max_digits=12, decimal_places=2)
    created = models.DateTimeField("redeemed", auto_now_add=True)
    released_at = models.DateTimeField(
        "use given back", null=True, blank=True, help_text="The order went unpaid."
    )

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = "coupon redemption"
        verbose_name_plural = "coupon redemptions"
        indexes = [models.Index(fields=["coupon", "released_at"], name="redemption_coupon_idx")]

    def __str__(self):
        return f"{self.coupon} on {self.order}"
