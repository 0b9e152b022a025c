"""Where a wine import stands, for its page, and the latest imports (shop.imports.selectors)."""

import pytest
from django.core.cache import cache

from shop.imports import (
    MAX_ERRORS,
    wine_import_create,
    wine_import_list_recent,
    wine_import_progress,
    wine_import_start,
    wine_import_state,
)
from shop.imports.selectors import progress_key
from shop.models import WineImport
from shop.tests.wine_files import HEADER, upload

pytestmark = pytest.mark.django_db


def test_a_checked_valid_file_can_be_confirmed():
    wine_import = wine_import_start(upload=upload())

    state = wine_import_state(wine_import_id=wine_import.pk)

    assert state.wine_import == wine_import
    assert (state.report.new, state.report.ok) == (1, True)
    assert (state.rows_processed, state.share, state.percent, state.percent_text) == (
        1,
        1.0,
        100,
        "100%",
    )
    assert (state.working, state.can_confirm, state.hidden_errors) == (False, True, 0)


def test_an_applied_file_can_not_be_confirmed_again():
    wine_import = wine_import_start(upload=upload())
    WineImport.objects.filter(pk=wine_import.pk).update(dry_run=False)

    assert not wine_import_state(wine_import_id=wine_import.pk).can_confirm


def test_errors_past_those_listed_are_counted_as_hidden():
    rows = [f"B{n},W,P,2019,Red,France,,-1,1,,yes" for n in range(MAX_ERRORS + 7)]
    wine_import = wine_import_start(upload=upload("\n".join([HEADER, *rows]).encode()))

    state = wine_import_state(wine_import_id=wine_import.pk)

    assert len(state.report.errors) == MAX_ERRORS
    assert (state.hidden_errors, state.can_confirm) == (7, False)


def test_a_queued_wine_import_is_working_with_no_report_yet():
    wine_import = wine_import_create(upload=upload())

    state = wine_import_state(wine_import_id=wine_import.pk)

    assert (state.working, state.report, state.can_confirm) == (True, None, False)
    assert (state.rows_processed, state.percent, state.percent_text) == (0, None, "…")


def test_a_running_wine_import_reports_its_progress_from_the_shared_cache():
    wine_import = wine_import_create(upload=upload())
    WineImport.objects.filter(pk=wine_import.pk).update(status=WineImport.Status.RUNNING)
    cache.set(progress_key(wine_import.pk), (4000, 0.25, 0))
    wine_import.refresh_from_db()

    assert wine_import_progress(wine_import=wine_import) == (4000, 0.25)
    state = wine_import_state(wine_import_id=wine_import.pk)
    assert (state.rows_processed, state.percent_text, state.working) == (4000, "25%", True)


def test_an_unknown_wine_import_has_no_state():
    assert wine_import_state(wine_import_id=404) is None


def test_recent_wine_imports_are_the_latest_first(django_assert_num_queries, admin_user):
    for n in range(12):
        wine_import_create(upload=upload(name=f"file-{n}.csv"), user=admin_user)

    with django_assert_num_queries(1):
        recent = [(w.original_name, w.created_by.username) for w in wine_import_list_recent()]

    assert recent == [(f"file-{n}.csv", admin_user.username) for n in range(11, 1, -1)]
