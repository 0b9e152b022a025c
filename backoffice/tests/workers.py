"""Real Celery worker processes for integration tests, on the broker the test run uses."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

from backoffice.broker import clear_stale_fanout, ensure_folders
from backoffice.celery import app as celery_app


def database_url() -> str:
    """Return a DATABASE_URL naming the test database this process is connected to."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or "postgres"
    auth = f"{user}:{db['PASSWORD']}" if db["PASSWORD"] else user
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    def __init__(self, mail_dir: Path, *, mail_pause: float = 0):
        self.mail_dir = mail_dir
        self.log = mail_dir.parent / f"worker-{uuid.uuid4().hex[:8]}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "backoffice.tests.worker_settings",
            "DATABASE_URL": database_url(),
            "TEST_MAIL_DIR": str(mail_dir),
            "TEST_MAIL_PAUSE": str(mail_pause),
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "--app",
            "backoffice",
            "worker",
            "--queues",
            "default,emails,reports",
            "--concurrency",
            "1",
            "--hostname",
            f"test-{uuid.uuid4().hex[:8]}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                command,
                env=env,
                cwd=settings.BASE_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(lambda: "ready." in self.log.read_text(), timeout=60, what="the worker to start")

    def kill(self) -> None:
        """Kill the worker and its pool at once, as a crashed machine would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text()


def wait_for(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"Timed out after {timeout} s waiting for {what}.")


def use_real_broker() -> None:
    """Publish to the broker for real (the suite otherwise runs tasks in-process)."""
    ensure_folders()
    clear_stale_fanout()
    celery_app.conf.task_always_eager = False


def purge_queues() -> None:
    with celery_app.connection_for_write() as conn:
        for queue in ("default", "emails", "reports"):
            conn.default_channel.queue_declare(queue=queue, durable=True, auto_delete=False)
            conn.default_channel.queue_purge(queue)
