"""Starting, confirming and running wine imports (shop.imports.services)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.exceptions import DomainError
from shop.imports import (
    STALLED_AFTER_SECONDS,
    ImportFileTooLarge,
    WineImportBusy,
    wine_import_confirm,
    wine_import_create,
    wine_import_run,
    wine_import_start,
)
from shop.models import Wine, WineImport
from shop.tests.wine_files import BAD_FILE, GOOD_FILE, upload

pytestmark = pytest.mark.django_db


def test_start_keeps_the_file_and_checks_a_small_one_at_once(admin_user):
    wine_import = wine_import_start(upload=upload(name="spring.csv"), user=admin_user)

    assert (wine_import.original_name, wine_import.size) == ("spring.csv", len(GOOD_FILE))
    assert wine_import.created_by == admin_user
    assert wine_import.file.open("rb").read() == GOOD_FILE
    assert (wine_import.status, wine_import.dry_run, wine_import.rows_processed) == (
        "done",
        True,
        1,
    )
    assert wine_import.started_at <= wine_import.finished_at
    assert wine_import.summary["new"] == 1
    assert not Wine.objects.exists()


def test_start_queues_a_large_file_for_a_worker_once_committed(
    settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_SYNC_MAX_BYTES = 10
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        wine_import = wine_import_start(upload=upload())
    assert wine_import.status == WineImport.Status.QUEUED
    assert wine_import.started_at is None
    assert len(callbacks) == 1

    callbacks[0]()  # the task, run eagerly as the suite's Celery does

    wine_import.refresh_from_db()
    assert (wine_import.status, wine_import.summary["new"]) == ("done", 1)


def test_start_refuses_a_file_past_the_admins_limit_and_keeps_nothing(settings):
    settings.IMPORT_MAX_BYTES = 100
    with pytest.raises(ImportFileTooLarge, match="the admin takes files up to 100") as refused:
        wine_import_start(upload=upload(GOOD_FILE * 3))
    assert isinstance(refused.value, DomainError)
    assert not WineImport.objects.exists()


def test_confirm_applies_the_checked_file_once():
    wine_import = wine_import_start(upload=upload())

    assert wine_import_confirm(wine_import_id=wine_import.pk) is True
    assert wine_import_confirm(wine_import_id=wine_import.pk) is False  # a second click

    wine_import.refresh_from_db()
    assert (wine_import.status, wine_import.dry_run) == ("done", False)
    assert wine_import.summary["applied"] is True
    assert Wine.objects.filter(sku="A1").count() == 1


def test_confirm_refuses_a_file_with_invalid_rows_and_one_not_checked_yet(
    settings, django_capture_on_commit_callbacks
):
    invalid = wine_import_start(upload=upload(BAD_FILE))
    assert wine_import_confirm(wine_import_id=invalid.pk) is False

    settings.IMPORT_SYNC_MAX_BYTES = 10
    with django_capture_on_commit_callbacks(execute=False):
        queued = wine_import_start(upload=upload())
    assert wine_import_confirm(wine_import_id=queued.pk) is False
    assert wine_import_confirm(wine_import_id=queued.pk + 1000) is False

    assert WineImport.objects.filter(dry_run=True).count() == 2
    assert not Wine.objects.exists()


def test_a_wine_import_runs_once_whoever_takes_it():
    wine_import = wine_import_create(upload=upload())
    assert wine_import_run(wine_import_id=wine_import.pk) is not None
    assert wine_import_run(wine_import_id=wine_import.pk) is None  # a redelivered task


def test_a_wine_import_whose_worker_died_is_taken_over_by_the_redelivered_task():
    wine_import = wine_import_create(upload=upload())
    started_at = timezone.now() - timedelta(minutes=1)
    WineImport.objects.filter(pk=wine_import.pk).update(
        status=WineImport.Status.RUNNING, started_at=started_at
    )
    with pytest.raises(WineImportBusy):  # still running, for all anyone knows
        wine_import_run(wine_import_id=wine_import.pk)
    long_ago = timezone.now() - timedelta(seconds=STALLED_AFTER_SECONDS + 1)
    WineImport.objects.filter(pk=wine_import.pk).update(started_at=long_ago)

    taken = wine_import_run(wine_import_id=wine_import.pk)

    assert (taken.status, taken.summary["new"]) == ("done", 1)
    assert taken.started_at > long_ago


def test_an_unexpected_error_fails_the_wine_import_with_a_message():
    wine_import = wine_import_create(upload=upload())
    wine_import.file.storage.delete(wine_import.file.name)  # the stored file went missing

    failed = wine_import_run(wine_import_id=wine_import.pk)

    assert failed.status == WineImport.Status.FAILED
    assert failed.error.startswith("The import stopped on an unexpected error")
    assert failed.finished_at is not None
