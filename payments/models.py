from django.db import models


class StripeEvent(models.Model):
    """A webhook event from Stripe, stored once by its id before it acts."""

    class Outcome(models.TextChoices):
        RECEIVED = "received", "Received, to apply"
        APPLIED = "applied", "Applied"
        NO_CHANGE = "no_change", "No change needed"
        FLAGGED = "flagged", "Flagged for staff"
        UNKNOWN_ORDER = "unknown_order", "Unknown order"
        IGNORED = "ignored", "Not handled"

    event_id = models.CharField("Stripe event", max_length=255, unique=True)
    type = models.CharField("type", max_length=100)
    livemode = models.BooleanField("live", default=False)
    payload = models.JSONField("payload")
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stripe_events",
        verbose_name="order",
    )
    outcome = models.CharField("outcome", max_length=20, choices=Outcome.choices)
    note = models.TextField("note", blank=True)
    received = models.DateTimeField("received", auto_now_add=True)
    applied = models.DateTimeField("applied", null=True, blank=True)

    class Meta:
        ordering = ["-received", "-id"]
        verbose_name = "Stripe event"
        verbose_name_plural = "Stripe events"
        indexes = [
            models.Index(fields=["type", "-received"], name="stripe_event_type_idx"),
            # The few events still to apply, found without reading the many applied ones.
            models.Index(
                fields=["received"],
                condition=models.Q(outcome="received"),
                name="stripe_event_waiting_idx",
            ),
        ]

    def __str__(self):
        return f"{self.type} {self.event_id}"
