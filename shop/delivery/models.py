from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from shop.delivery.countries import COUNTRY_CHOICES, DEFAULT_MINIMUM_AGE, country_name


class DeliveryMethod(models.TextChoices):
    DELIVERY = "delivery", _("Delivery")
    COLLECT = "collect", _("Click & collect")


def _prefixes_check(value: str) -> None:
    for prefix in split_prefixes(value):
        if not prefix.isalnum() or len(prefix) > 10:
            raise ValidationError(
                f"{prefix!r} is not a postal-code prefix: letters and digits, up to 10."
            )


def split_prefixes(value: str) -> list[str]:
    """Return the prefixes of a comma-separated list, upper case, without spaces."""
    return [p.replace(" ", "").upper() for p in value.split(",") if p.strip()]


class Destination(models.Model):
    """A country the shop may deliver to: the VAT charged there and the age to buy wine there."""

    country = models.CharField("country", max_length=2, unique=True, choices=COUNTRY_CHOICES)
    vat_rate = models.DecimalField(
        "VAT rate",
        max_digits=5,
        decimal_places=4,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal("0.5"))],
        help_text="As a fraction: 0.2 for 20 %. Frozen on each order when it is placed. The "
        "seeded rates are defaults: confirm them with your accountant.",
    )
    minimum_age = models.PositiveSmallIntegerField(
        "minimum age",
        default=DEFAULT_MINIMUM_AGE,
        validators=[MinValueValidator(16), MaxValueValidator(25)],
        help_text="Customers confirm at checkout that they are at least this old.",
    )

    class Meta:
        ordering = ["country"]
        verbose_name = "destination country"
        verbose_name_plural = "destination countries (VAT and age)"
        constraints = [
            models.CheckConstraint(
                condition=Q(vat_rate__gte=0, vat_rate__lte=Decimal("0.5")),
                name="destination_vat_rate_range",
            )
        ]

    def __str__(self):
        return country_name(self.country)


class ShippingZone(models.Model):
    """Countries (or parts of them) delivered at the same rates."""

    name = models.CharField("name", max_length=100, unique=True)
    active = models.BooleanField("active", default=True, help_text="Inactive zones serve no one.")
    free_from = models.DecimalField(
        "free delivery from",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text="Delivery is free when the wine, less its coupon, comes to at least this.",
    )
    per_bottle_above = models.DecimalField(
        "per bottle above the bands",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text="Added for each bottle beyond the largest band, to that band's price. "
        "Empty: larger orders are not delivered to this zone.",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "shipping zone"
        verbose_name_plural = "shipping zones"

    def __str__(self):
        return self.name


class ZoneArea(models.Model):
    """A country of a zone, or the part of it its postal codes say."""

    zone = models.ForeignKey(
        ShippingZone, on_delete=models.CASCADE, related_name="areas", verbose_name="zone"
    )
    destination = models.ForeignKey(
        Destination, on_delete=models.PROTECT, related_name="areas", verbose_name="country"
    )
    postal_prefixes = models.CharField(
        "only postal codes starting with",
        max_length=200,
        blank=True,
        validators=[_prefixes_check],
        help_text="Comma-separated, e.g. 20 for Corsica. Empty: the whole country.",
    )
    excluded_postal_prefixes = models.CharField(
        "except postal codes starting with",
        max_length=200,
        blank=True,
        validators=[_prefixes_check],
        help_text="Comma-separated, e.g. 20, 97 for mainland France.",
    )

    class Meta:
        ordering = ["destination__country"]
        verbose_name = "country of the zone"
        verbose_name_plural = "countries of the zone"
        constraints = [
            models.UniqueConstraint(fields=["zone", "destination"], name="zone_area_once")
        ]

    def __str__(self):
        return f"{self.destination} ({self.zone})"


class ShippingRate(models.Model):
    """The delivery charge of a zone for a band of bottles."""

    zone = models.ForeignKey(
        ShippingZone, on_delete=models.CASCADE, related_name="rates", verbose_name="zone"
    )
    min_bottles = models.PositiveIntegerField("from bottles", validators=[MinValueValidator(1)])
    max_bottles = models.PositiveIntegerField("to bottles", validators=[MinValueValidator(1)])
    price = models.DecimalField(
        "price", max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )

    class Meta:
        ordering = ["zone", "min_bottles"]
        verbose_name = "shipping rate"
        verbose_name_plural = "shipping rates"
        constraints = [
            models.CheckConstraint(
                condition=Q(min_bottles__gte=1, max_bottles__gte=F("min_bottles"), price__gte=0),
                name="shipping_rate_band",
            ),
            models.UniqueConstraint(fields=["zone", "min_bottles"], name="shipping_rate_once"),
        ]

    def __str__(self):
        return f"{self.min_bottles}–{self.max_bottles} bottles: {self.price}"
