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


class CreditNoteSequence(models.Model):
    """The last credit note number given in a year: a series of its own, locked the same way."""

    year = models.PositiveSmallIntegerField("year", unique=True)
    last = models.PositiveIntegerField("last number", default=0)

    class Meta:
        verbose_name = "credit note sequence"
        verbose_name_plural = "credit note sequences"

    def __str__(self):
        return f"{self.year}: {self.last}"


# What may be written to an issued document (an invoice, a credit note) once it exists: its
# PDF, drawn again from its snapshot.
RENDERING = frozenset({"file", "rendered_at"})


def _refuse_edits(fields, document: str = "invoice") -> None:
    edited = set(fields) - RENDERING
    if edited:
        correction = "a credit note" if document == "invoice" else "another document"
        raise ValueError(
            f"An issued {document} is never edited ({', '.join(sorted(edited))}): "
            f"a correction is {correction}."
        )


class IssuedQuerySet(models.QuerySet):
    """Updates of issued documents: only their PDF may be written again."""

    def update(self, **kwargs):
        _refuse_edits(kwargs, self.model._meta.verbose_name)
        return super().update(**kwargs)


class IssuedDocument(models.Model):
    """What an issued document's save() allows: a new one, or its PDF drawn again."""

    class Meta:
        abstract = True

    def save(self, *args, update_fields=None, **kwargs):
        if not self._state.adding:
            if update_fields is None:  # a whole save writes every field again
                raise ValueError(
                    f"An issued {self._meta.verbose_name} is saved again only with update_fields."
                )
            _refuse_edits(update_fields, self._meta.verbose_name)
        super().save(*args, update_fields=update_fields, **kwargs)


class Invoice(IssuedDocument):
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

    objects = IssuedQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "-sequence"]
        verbose_name = "invoice"
        verbose_name_plural = "invoices"
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="invoice_sequence_unique")
        ]

    def __str__(self):
        return self.number

    @property
    def filename(self) -> str:
        return f"invoice-{self.number}.pdf"


class CreditNote(IssuedDocument):
    """A credit note: what a succeeded refund gave back, citing the order's invoice.

    One per succeeded refund, numbered in a yearly series of its own (CreditNoteSequence) and
    created with the snapshot of everything its PDF shows (reports.credit_notes), under the
    order's lock, as an invoice is; it is never edited either, only its PDF drawn again.
    """

    refund = models.OneToOneField(
        "orders.Refund",
        on_delete=models.PROTECT,
        related_name="credit_note",
        verbose_name="refund",
    )
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="credit_notes",
        verbose_name="order",
    )
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        verbose_name="cited invoice",
    )
    number = models.CharField("number", max_length=30, unique=True, editable=False)
    year = models.PositiveSmallIntegerField("year", editable=False)
    sequence = models.PositiveIntegerField("number in the year", editable=False)
    amount = models.DecimalField("amount refunded", max_digits=12, decimal_places=2)
    issued_at = models.DateTimeField("issued", editable=False)
    file = models.FileField(
        "PDF", storage=private_storage, upload_to="credit-notes/", blank=True, max_length=200
    )
    rendered_at = models.DateTimeField("rendered", null=True, blank=True, editable=False)
    snapshot = models.JSONField("snapshot", editable=False)

    objects = IssuedQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "-sequence"]
        verbose_name = "credit note"
        verbose_name_plural = "credit notes"
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="credit_note_sequence_unique")
        ]

    def __str__(self):
        return self.number

    @property
    def filename(self) -> str:
        return f"credit-note-{self.number}.pdf"


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
