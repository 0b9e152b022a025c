from django.db import models


class StoredFile(models.Model):
    """A private file (invoice, report, uploaded import) kept in the database.

    Every web and worker process reads the same database, wherever it runs, so a file a worker
    writes on one machine can be downloaded through the web on another: no shared disk.
    """

    name = models.CharField("name", max_length=255, unique=True)
    content = models.BinaryField("content")
    size = models.PositiveBigIntegerField("size")
    created = models.DateTimeField("created", auto_now_add=True)

    class Meta:
        # The table of the app that held the model first: its rows are every file the shop has.
        db_table = "backoffice_storedfile"
        verbose_name = "stored file"
        verbose_name_plural = "stored files"

    def __str__(self):
        return self.name


class JobStatus(models.TextChoices):
    """Where a piece of background work stands: coupon batches, wine imports, reports."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
