from django.db import models


class BaselineRow(models.Model):
    """A row that bench/'s baselines insert, lock and stamp: the floor of a write."""

    touched_at = models.DateTimeField("touched at", null=True, blank=True)

    class Meta:
        verbose_name = "benchmark baseline row"

    def __str__(self):
        return f"Baseline row {self.pk}"
