import io

import pytest
from django.core import mail
from django.urls import reverse

from backoffice.tests.workers import Worker, wait_for
from shop.models import Wine, WineImport
from shop.tasks import wine_low_stock_alert
from shop.tests.factories import WineFactory
from shop.tests.wine_files import HEADER

pytestmark = pytest.mark.django_db


def test_low_stock_alert_lists_wines_at_or_below_threshold(settings):
    settings.STAFF_ALERT_EMAILS = ["cellar@example.com"]
    WineFactory(name="Tignanello", stock=2, low_stock_threshold=6)
    WineFactory(name="Sassicaia", stock=6, low_stock_threshold=6)
    WineFactory(name="Plenty", stock=50, low_stock_threshold=6)
    WineFactory(name="Withdrawn", stock=0, available=False)
    assert wine_low_stock_alert.delay().get() == 2
    (message,) = mail.outbox
    assert message.to == ["cellar@example.com"]
    assert "Tignanello" in message.body and "Sassicaia" in message.body
    assert "Plenty" not in message.body and "Withdrawn" not in message.body


def test_low_stock_alert_goes_to_staff_when_no_address_is_set(settings, django_user_model):
    settings.STAFF_ALERT_EMAILS = []
    django_user_model.objects.create_user("m", "merchant@example.com", "pw", is_staff=True)
    django_user_model.objects.create_user("c", "customer@example.com", "pw")
    WineFactory(stock=1)
    wine_low_stock_alert.delay()
    assert mail.outbox[0].to == ["merchant@example.com"]


def finished(wine_import, *, dry_run: bool) -> bool:
    return WineImport.objects.filter(
        pk=wine_import.pk, dry_run=dry_run, status=WineImport.Status.DONE
    ).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_worker_checks_then_applies_a_large_wine_file(
    admin_client, settings, real_broker, mail_dir
):
    # A large file goes to a real worker process, which reads it from private storage.
    settings.IMPORT_SYNC_MAX_BYTES = 100
    rows = [f"W{i:04d},Wine {i},Dom,2019,Red,France,Loire,{i}.50,6,,yes" for i in range(300)]
    file = io.BytesIO("\n".join([HEADER, *rows]).encode())
    file.name = "large.csv"
    worker = Worker(mail_dir)
    try:
        admin_client.post(
            reverse("admin:shop_wine_import"), {"import_file": file, "format": "", "resource": "0"}
        )
        wine_import = WineImport.objects.get()
        wait_for(lambda: finished(wine_import, dry_run=True), timeout=60, what="the preview")
        wine_import.refresh_from_db()
        assert (wine_import.summary["new"], wine_import.rows_processed, Wine.objects.count()) == (
            300,
            300,
            0,
        )

        admin_client.post(reverse("admin:shop_wine_import_confirm", args=[wine_import.pk]))
        wait_for(lambda: finished(wine_import, dry_run=False), timeout=60, what="the import")
    finally:
        worker.stop()
    assert Wine.objects.count() == 300, worker.output()
    page = admin_client.get(reverse("admin:shop_wine_import_detail", args=[wine_import.pk]))
    assert "The file was imported." in page.content.decode()
