from celery import shared_task
from django.core.management import call_command


@shared_task
def session_clear_expired() -> None:
    """Delete expired sessions (idempotent: Django's own clearsessions)."""
    call_command("clearsessions")


@shared_task
def noop() -> None:
    """Do nothing: the baseline of the task pipeline (broker, worker, pool) that bench/ measures."""
