from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The floor every app stands on: stored files, job status, codes, money, the rate limiter,
    staff alerts. It imports no app of ours."""

    name = "core"
    verbose_name = "Core"
