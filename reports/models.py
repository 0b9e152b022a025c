from datetime import date, timedelta

from django.conf import settings
from django.db import models

from core.models import JobStatus
from core.storage import private_storage


class InvoiceSequence(models.Model):
    """The last invoice number given in a year: locked while the next one is taken."""

    year = models.PositiveSmallIntegerField("year", unique=True)
    last = models.PositiveIntegerField("last number", default=0)

    class Meta:
        verbose_name = "invoice sequence"
        verbose_name_plural = "invoice sequences"

    def __str__(self):
        return f"{self.year}: {self.last}"


# What may be written to an invoice once it exists: its PDF, drawn again from its snapshot.
RENDERING = frozenset({"file", "rendered_at"})


def _refuse_edits(fields) -> None:
    edited = set(fields) - RENDERING
    if edited:
        raise ValueError(
            f"An issued invoice is never edited ({', '.join(sorted(edited))}): "
            "a correction is a credit note."
        )


class InvoiceQuerySet(models.QuerySet):
    def update(self, **kwargs):
        _refuse_edits(kwargs)
        return super().update(**kwargs)


class Invoice(models.Model):
    """An invoice: numbered once, and never edited.

    It is created with its number and its snapshot (everything its PDF shows, see
    reports.invoices.InvoiceSnapshot) in the transaction that numbers it under the order's lock
    (reports.services). Afterwards only its PDF is written again, always from that snapshot:
    save() of an invoice that exists needs update_fields within RENDERING, and the manager's
    update() refuses any other field, so no code path of the ORM rewrites the snapshot, the
    number or the date; the admin shows it read-only. A correction is a credit note.
    """

    order = models.OneToOneField(
        "orders.Order", on_delete=models.PROTECT, related_name="invoice", verbose_name="order"
    )
    number = models.CharField("number", max_length=30, unique=True, editable=False)
    year = models.PositiveSmallIntegerField("year", editable=False)
    sequence = models.PositiveIntegerField("number in the year", editable=False)
    issued_at = models.DateTimeField("issued", editable=False)
    file = models.FileField(
        "PDF", storage=private_storage, upload_to="invoices/", blank=True, max_length=200
    )
    rendered_at = models.DateTimeField("rendered", null=True, blank=True, editable=False)
    snapshot = models.JSONField("snapshot", editable=False)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "-sequence"]
        verbose_name = "invoice"
        verbose_name_plural = "invoices"
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="invoice_sequence_unique")
        ]

    def __str__(self):
        return self.number

    def save(self, *args, update_fields=None, **kwargs):
        if not self._state.adding:
            if update_fields is None:  # a whole save writes every field again
                raise ValueError("An issued invoice is saved again only with update_fields.")
            _refuse_edits(update_fields)
        super().save(*args, update_fields=update_fields, **kwargs)

    @property
    def filename(self) -> str:
        return f"invoice-{self.number}.pdf"


class Report(models.Model):
    class Kind(models.TextChoices):
        DAY = "day", "Day"
        WEEK = "week", "Week"
        MONTH = "month", "Month"

    Status = JobStatus

    kind = models.CharField("period", max_length=8, choices=Kind.choices, default=Kind.DAY)
    start = models.DateField("first day")
    status = models.CharField(
        "status", max_length=8, choices=Status.choices, default=Status.QUEUED, editable=False
    )
    error = models.TextField("why it failed", blank=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        verbose_name="requested by",
    )
    # The morning report, built by the schedule once per day and emailed to the merchants.
    scheduled = models.BooleanField("scheduled", default=False, editable=False)
    created = models.DateTimeField("requested", auto_now_add=True)
    started_at = models.DateTimeField("started", null=True, blank=True, editable=False)
    finished_at = models.DateTimeField("finished", null=True, blank=True, editable=False)
    emailed_at = models.DateTimeField("emailed", null=True, blank=True, editable=False)
    pdf = models.FileField(
        "PDF", storage=private_storage, upload_to="reports/", blank=True, max_length=200
    )
    csv = models.FileField(
        "CSV", storage=private_storage, upload_to="reports/", blank=True, max_length=200
    )

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = "sales report"
        verbose_name_plural = "sales reports"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "start"],
                condition=models.Q(scheduled=True),
                name="report_scheduled_once_per_period",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} report from {self.start:%Y-%m-%d}"

    @property
    def end(self) -> date:
        """Return the day after the period."""
        from reports.selectors import period_end

        return period_end(self.kind, self.start)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def filename(self, extension: str) -> str:
        return f"sales-{self.kind}-{self.start:%Y-%m-%d}.{extension}"
