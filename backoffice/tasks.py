from celery import shared_task
from django.core.management import call_command


@shared_task
def clear_sessions() -> None:
    """Delete expired sessions (idempotent: Django's own clearsessions)."""
    call_command("clearsessions")


@shared_task
def noop() -> None:
    """Do nothing: the baseline of the task pipeline (broker, worker, pool) that bench/ measures."""
