from importlib import import_module

import pytest
from django.apps import apps
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from backoffice.schedule import JOBS

pytestmark = pytest.mark.django_db

task_names = import_module("backoffice.migrations.0003_task_names")


def test_periodic_tasks_under_a_former_task_name_move_to_the_new_one_and_back():
    every = IntervalSchedule.objects.create(every=5, period=IntervalSchedule.MINUTES)
    kept = PeriodicTask.objects.create(
        name="Someone's own", task="celery.backend_cleanup", interval=every
    )
    for old in task_names.RENAMED:
        PeriodicTask.objects.create(name=old, task=old, interval=every)

    task_names.forwards(apps, None)

    renamed = dict(PeriodicTask.objects.exclude(pk=kept.pk).values_list("name", "task"))
    assert renamed == task_names.RENAMED
    kept.refresh_from_db()
    assert kept.task == "celery.backend_cleanup"

    task_names.backwards(apps, None)

    assert set(PeriodicTask.objects.values_list("task", flat=True)) == {
        *task_names.RENAMED,
        "celery.backend_cleanup",
    }


def test_every_scheduled_task_has_its_current_name_and_none_a_former_one():
    from backoffice.celery import app

    app.loader.import_default_modules()
    for job in JOBS:
        assert job.task in app.tasks
        assert job.task not in task_names.RENAMED
    assert set(task_names.RENAMED.values()) <= set(app.tasks)
