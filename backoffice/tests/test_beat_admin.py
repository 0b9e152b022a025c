import datetime
import html
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from kombu.exceptions import OperationalError

from backoffice.admin import TaskSelectWidget
from backoffice.celery import app as celery_app
from backoffice.schedule import setup_schedule

pytestmark = pytest.mark.django_db


@celery_app.task(name="backoffice.tests.greet")
def greet(name):
    return f"Hello {name}"


@pytest.fixture
def beat_rows():
    setup_schedule()
    return {
        "periodictask": PeriodicTask.objects.get(name="Expire unpaid orders"),
        "intervalschedule": PeriodicTask.objects.get(name="Expire unpaid orders").interval,
        "crontabschedule": PeriodicTask.objects.get(name="Low-stock alert").crontab,
        "solarschedule": SolarSchedule.objects.create(
            event="sunrise", latitude="44.84", longitude="-0.58"
        ),
        "clockedschedule": ClockedSchedule.objects.create(
            clocked_time=timezone.now() + datetime.timedelta(days=1)
        ),
    }


@pytest.fixture
def greeting():
    return PeriodicTask.objects.create(
        name="Greet Camille",
        task="backoffice.tests.greet",
        args='["Camille"]',
        interval=IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS),
    )


@pytest.fixture
def publishing():
    """Record what would be published to the broker, the boundary, instead of running it."""
    conf = celery_app.conf
    saved, conf.task_always_eager = conf.task_always_eager, False
    with mock.patch("celery.app.base.Celery.send_task", autospec=True) as send_task:
        yield send_task
    conf.task_always_eager = saved


def offered_actions(client) -> dict[str, str]:
    page = client.get(reverse("admin:django_celery_beat_periodictask_changelist"))
    action_form = page.context["action_form"]
    return dict(action_form.fields["action"].choices) if action_form else {}


def run_now(client, *tasks):
    return client.post(
        reverse("admin:django_celery_beat_periodictask_changelist"),
        {"action": "run_tasks", "_selected_action": [task.pk for task in tasks]},
        follow=True,
    )


@pytest.mark.parametrize(
    "model",
    ["periodictask", "intervalschedule", "crontabschedule", "solarschedule", "clockedschedule"],
)
def test_beat_pages_render(admin_client, beat_rows, model):
    prefix = f"admin:django_celery_beat_{model}"
    row = beat_rows[model]
    row.refresh_from_db()  # as the admin reads it: decimals and times as stored
    change = reverse(f"{prefix}_change", args=[row.pk])
    shown = {
        reverse(f"{prefix}_changelist"): f'href="{change}"',  # the row, linked to its page
        reverse(f"{prefix}_add"): f"Add {row._meta.verbose_name}",
        change: str(row),
    }
    for url, text in shown.items():
        page = admin_client.get(url)
        assert page.status_code == 200, url
        assert text in html.unescape(page.content.decode()), (url, text)


def test_task_form_uses_unfold_widgets(admin_client, greeting):
    page = admin_client.get(reverse("admin:django_celery_beat_periodictask_add"))
    regtask = page.context["adminform"].form.fields["regtask"].widget
    assert isinstance(regtask, TaskSelectWidget)
    assert ("backoffice.tests.greet", "backoffice.tests.greet") in regtask.choices
    assert '<option value="backoffice.tests.greet">' in page.content.decode()


def test_run_now_publishes_the_task(admin_client, greeting, publishing):
    page = run_now(admin_client, greeting)
    assert "Queued for the workers: “Greet Camille”." in page.content.decode()
    assert "successfully run" not in page.content.decode()
    publishing.assert_called_once()
    _, name, args, kwargs = publishing.call_args.args
    assert (name, args, kwargs) == ("backoffice.tests.greet", ["Camille"], {})
    assert publishing.call_args.kwargs["headers"] == {"periodic_task_name": "Greet Camille"}


def test_run_now_reports_an_unreachable_broker(admin_client, greeting, publishing):
    publishing.side_effect = OperationalError("connection refused")
    page = run_now(admin_client, greeting)
    assert page.status_code == 200
    assert "The task queue is unreachable: connection refused" in page.content.decode()


def test_run_now_is_offered_by_that_name(admin_client, greeting):
    choices = offered_actions(admin_client)
    assert choices["run_tasks"] == "Run now"
    assert {"enable_tasks", "disable_tasks", "toggle_tasks"} <= choices.keys()


def test_viewer_can_neither_run_nor_disable_tasks(client, django_user_model, greeting, publishing):
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_periodictask"))
    client.force_login(viewer)
    assert (
        not {"run_tasks", "enable_tasks", "disable_tasks", "toggle_tasks"}
        & offered_actions(client).keys()
    )
    run_now(client, greeting)
    publishing.assert_not_called()


def test_run_now_refuses_a_task_no_worker_knows_and_queues_nothing(
    admin_client, greeting, publishing
):
    PeriodicTask.objects.filter(pk=greeting.pk).update(task="backoffice.tests.gone")
    page = run_now(admin_client, greeting)
    assert "No such task, nothing queued: Greet Camille." in page.content.decode()
    publishing.assert_not_called()


def test_task_list_says_when_each_task_runs_and_last_ran(admin_client, beat_rows):
    PeriodicTask.objects.filter(name="Expire unpaid orders").update(
        last_run_at=timezone.make_aware(datetime.datetime(2026, 3, 14, 9, 5))
    )
    page = admin_client.get(reverse("admin:django_celery_beat_periodictask_changelist"))
    rows = html.unescape(page.content.decode())
    assert "every 5 minutes" in rows
    assert "At 06:30 AM (Europe/Paris)" in rows and "(m/h/dM/MY/d)" not in rows
    assert "March 14, 2026, 9:05 a.m." in rows or "14 March 2026" in rows
    assert "never" in rows


def test_task_form_shows_the_saved_task_chosen_without_developer_notes(admin_client, greeting):
    page = admin_client.get(
        reverse("admin:django_celery_beat_periodictask_change", args=[greeting.pk])
    )
    form = page.context["adminform"].form
    assert form["regtask"].value() == "backoffice.tests.greet" and form["task"].value() == ""
    assert '<option value="backoffice.tests.greet" selected>' in page.content.decode()
    content = page.content.decode()
    for note in ("proj.tasks", "AMQP", "JSON encoded", "Set to False", "Leave None"):
        assert note not in content, note


def test_saving_the_form_keeps_the_chosen_task(admin_client, greeting):
    page = admin_client.get(
        reverse("admin:django_celery_beat_periodictask_change", args=[greeting.pk])
    )
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(name="Greet Camille daily", regtask="backoffice.tests.greet", task="")
    data = {key: value for key, value in data.items() if value is not False}
    answer = admin_client.post(
        reverse("admin:django_celery_beat_periodictask_change", args=[greeting.pk]), data
    )
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    greeting.refresh_from_db()
    assert (greeting.name, greeting.task) == ("Greet Camille daily", "backoffice.tests.greet")


@pytest.fixture
def flower(settings):
    settings.FLOWER_PUBLIC_URL = "https://flower.example.com/"
    return 'href="https://flower.example.com/"'


def test_sidebar_links_flower_for_superusers(admin_client, flower):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert flower in page
    assert "Queues & workers" in page
    assert reverse("admin:django_celery_beat_periodictask_changelist") in page


def test_sidebar_hides_flower_from_staff_without_permission(client, django_user_model, flower):
    staff = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(staff)
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    assert flower not in page.content.decode()


def test_sidebar_links_flower_for_periodic_task_viewers(client, django_user_model, flower):
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_periodictask"))
    client.force_login(viewer)
    assert flower in client.get(reverse("admin:index")).content.decode()
