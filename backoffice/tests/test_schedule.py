import io

import pytest
from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from backoffice.schedule import JOBS, setup_schedule

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int]:
    return (
        PeriodicTask.objects.count(),
        IntervalSchedule.objects.count(),
        CrontabSchedule.objects.count(),
    )


def test_first_run_creates_every_job_with_its_schedule():
    assert setup_schedule() == [(job.name, True) for job in JOBS]
    expire = PeriodicTask.objects.get(name="Expire unpaid orders")
    assert expire.task == "orders.tasks.order_expire_unpaid"
    assert (expire.interval.every, expire.interval.period) == (5, IntervalSchedule.MINUTES)
    alert = PeriodicTask.objects.get(name="Low-stock alert")
    assert (alert.crontab.hour, alert.crontab.minute) == ("7", "30")
    assert str(alert.crontab.timezone) == "Europe/Paris"
    assert all(task.enabled and task.description for task in PeriodicTask.objects.all())


def test_second_run_creates_nothing():
    setup_schedule()
    before = counts()
    assert setup_schedule() == [(job.name, False) for job in JOBS]
    assert counts() == before == (len(JOBS), 3, 3)


def test_unpaid_orders_are_looked_at_well_within_the_short_hold(settings):
    # An order nobody took to Stripe's page is released at most one interval after its hold.
    setup_schedule()
    expire = PeriodicTask.objects.get(name="Expire unpaid orders")
    assert expire.interval.period == IntervalSchedule.MINUTES
    assert expire.interval.every * 6 <= settings.ORDER_UNREACHED_HOLD_MINUTES


def test_rerun_keeps_a_disabled_job_disabled():
    setup_schedule()
    PeriodicTask.objects.filter(name="Low-stock alert").update(enabled=False)
    setup_schedule()
    assert not PeriodicTask.objects.get(name="Low-stock alert").enabled
    assert PeriodicTask.objects.get(name="Expire unpaid orders").enabled


def test_rerun_puts_back_a_schedule_changed_by_hand():
    setup_schedule()
    hourly = CrontabSchedule.objects.create(minute="0", hour="*")
    PeriodicTask.objects.filter(name="Expire unpaid orders").update(interval=None, crontab=hourly)
    setup_schedule()
    expire = PeriodicTask.objects.get(name="Expire unpaid orders")
    assert expire.crontab is None
    assert expire.interval.every == 5


def test_rerun_reuses_duplicate_schedules_added_by_hand():
    IntervalSchedule.objects.create(every=5, period=IntervalSchedule.MINUTES)
    IntervalSchedule.objects.create(every=5, period=IntervalSchedule.MINUTES)
    setup_schedule()
    assert IntervalSchedule.objects.filter(every=5).count() == 2


def test_command_prints_one_line_per_job():
    first, second = io.StringIO(), io.StringIO()
    call_command("setup_schedule", stdout=first)
    call_command("setup_schedule", stdout=second)
    assert first.getvalue().splitlines() == [f"{job.name}: created" for job in JOBS]
    assert second.getvalue().splitlines() == [f"{job.name}: up to date" for job in JOBS]
