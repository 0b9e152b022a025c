"""A large catalog file goes to a real worker process, which reads it from private storage."""

import io

import pytest
from django.urls import reverse

from backoffice.tests.workers import Worker, wait_for
from shop.models import Wine, WineImport

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

HEADER = "sku,name,producer,vintage,category,country,region,price,stock,description,available"


def finished(job, *, dry_run: bool) -> bool:
    return WineImport.objects.filter(
        pk=job.pk, dry_run=dry_run, status=WineImport.Status.DONE
    ).exists()


def test_a_worker_checks_then_applies_a_large_file(admin_client, settings, real_broker, mail_dir):
    settings.IMPORT_SYNC_MAX_BYTES = 100
    rows = [f"W{i:04d},Wine {i},Dom,2019,Red,France,Loire,{i}.50,6,,yes" for i in range(300)]
    file = io.BytesIO("\n".join([HEADER, *rows]).encode())
    file.name = "large.csv"
    worker = Worker(mail_dir)
    try:
        admin_client.post(
            reverse("admin:shop_wine_import"), {"import_file": file, "format": "", "resource": "0"}
        )
        job = WineImport.objects.get()
        wait_for(lambda: finished(job, dry_run=True), timeout=60, what="the preview")
        job.refresh_from_db()
        assert (job.summary["new"], job.rows_processed, Wine.objects.count()) == (300, 300, 0)

        admin_client.post(reverse("admin:shop_wine_import_confirm", args=[job.pk]))
        wait_for(lambda: finished(job, dry_run=False), timeout=60, what="the import")
    finally:
        worker.stop()
    assert Wine.objects.count() == 300, worker.output()
    page = admin_client.get(reverse("admin:shop_wine_import_job", args=[job.pk]))
    assert "The file was imported." in page.content.decode()
