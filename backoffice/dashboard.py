"""The admin index: what unfold's DASHBOARD_CALLBACK adds to its context."""

from django.conf import settings

from backoffice.health import worker_health


def dashboard_callback(request, context: dict) -> dict:
    """Add the workers' health for those who may see the queues (the sidebar's Flower link)."""
    if request.user.has_perm("django_celery_beat.view_periodictask"):
        # Workers answer within milliseconds when they are up; the page shouldn't wait longer.
        context["worker_health"] = worker_health(timeout=0.5)
        context["flower_url"] = settings.FLOWER_URL
    return context
