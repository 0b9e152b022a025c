"""The shop's periodic jobs, kept in django-celery-beat's tables under their unique names."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask


@dataclass(frozen=True)
class Every:
    minutes: int


@dataclass(frozen=True)
class Daily:
    hour: int
    minute: int = 0


@dataclass(frozen=True)
class Job:
    name: str
    task: str
    when: Every | Daily
    description: str


JOBS = [
    Job(
        name="Expire unpaid orders",
        task="orders.tasks.order_expire_unpaid",
        # Often enough that an order nobody tried to pay is released soon after its short
        # hold (ORDER_UNREACHED_HOLD_MINUTES) ends.
        when=Every(minutes=5),
        description="Expire orders left unpaid past their payment window, or never taken to "
        "Stripe's payment page within the short hold, and release their stock.",
    ),
    Job(
        name="Apply received Stripe events",
        task="payments.tasks.payment_apply_waiting",
        # Each event's own task applies it at once; this finds those whose task the broker
        # lost, so that a paid order waits a minute at most once the broker is back.
        when=Every(minutes=1),
        description="Apply the Stripe events the webhook stored over a minute ago whose task "
        "never ran (the broker was away): paid orders become paid, expired ones release stock.",
    ),
    Job(
        name="Reconcile payments",
        task="payments.tasks.payment_reconcile",
        when=Every(minutes=10),
        description="Ask Stripe about pending orders whose webhook has not arrived, and apply "
        "its answer: paid orders become paid, expired sessions release their stock.",
    ),
    Job(
        name="Send unsent order emails",
        task="orders.tasks.order_email_send_pending",
        when=Every(minutes=5),
        description="Queue the order emails that could not be queued when the order changed.",
    ),
    Job(
        name="Morning sales report",
        task="reports.tasks.report_daily",
        when=Daily(hour=6, minute=30),
        description="Build yesterday's sales report (PDF and CSV) and email it to REPORT_EMAILS "
        "and the active staff of the Merchants group.",
    ),
    Job(
        name="Low-stock alert",
        task="shop.tasks.wine_low_stock_alert",
        when=Daily(hour=7, minute=30),
        description="Email the shop the wines that are running out of stock.",
    ),
    Job(
        name="Clear expired sessions",
        task="backoffice.tasks.session_clear_expired",
        when=Daily(hour=4),
        description="Delete expired sessions from the database.",
    ),
]


def _reuse_or_create(model, **fields):
    # Schedule tables have no unique constraint, so an operator may already have added
    # duplicates by hand: reuse the oldest rather than fail on get().
    return model.objects.filter(**fields).order_by("pk").first() or model.objects.create(**fields)


def _schedule_fields(when: Every | Daily) -> dict:
    fields = {"interval": None, "crontab": None, "solar": None, "clocked": None}
    if isinstance(when, Every):
        fields["interval"] = _reuse_or_create(
            IntervalSchedule, every=when.minutes, period=IntervalSchedule.MINUTES
        )
    else:
        fields["crontab"] = _reuse_or_create(
            CrontabSchedule,
            minute=str(when.minute),
            hour=str(when.hour),
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone=settings.TIME_ZONE,
        )
    return fields


@transaction.atomic
def setup_schedule() -> list[tuple[str, bool]]:
    """Create or update each job's periodic task; return (name, created) for each.

    A job that already exists keeps its enabled flag: an operator may have turned it off.
    """
    results = []
    for job in JOBS:
        _, created = PeriodicTask.objects.update_or_create(
            name=job.name,
            defaults={
                "task": job.task,
                "description": job.description,
                "one_off": False,
                **_schedule_fields(job.when),
            },
        )
        results.append((job.name, created))
    return results


def schedule_text(task: PeriodicTask) -> str:
    """Return when the task runs, as an operator says it: "every 5 minutes", "At 06:30 AM"."""
    if task.interval:
        return str(task.interval)
    if task.crontab:
        zone = str(task.crontab.timezone)
        return f"{task.crontab.human_readable.removesuffix(' ' + zone)} ({zone})"
    if task.clocked:
        return f"once, {timezone.localtime(task.clocked.clocked_time):%Y-%m-%d %H:%M}"
    if task.solar:
        return str(task.solar)
    return "never"
