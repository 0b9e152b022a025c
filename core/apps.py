from django.apps import AppConfig
from django.db.backends.signals import connection_created


class CoreConfig(AppConfig):
    """The floor every app stands on: stored files, job status, codes, money, the rate limiter,
    staff alerts, text search. It imports no app of ours."""

    name = "core"
    verbose_name = "Core"

    def ready(self):
        from core.search import register_sqlite_fold

        connection_created.connect(register_sqlite_fold, dispatch_uid="core.search.fold")
