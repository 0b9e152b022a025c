"""Real Celery worker processes for integration tests, on the broker the test run uses."""

import os
import signal
import socket
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import kombu.pools
from django.conf import settings
from django.db import connection

from backoffice.broker import clear_stale_fanout, ensure_folders
from backoffice.celery import app as celery_app
from core.tests.waiting import until


def database_url() -> str:
    """Return a DATABASE_URL naming the test database this process is connected to."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or "postgres"
    auth = f"{user}:{db['PASSWORD']}" if db["PASSWORD"] else user
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


# The queues the Procfile's worker consumes, as the test workers do.
QUEUES = ("default", "emails", "reports")
# The tests that use the broker for real run in this group of pytest-xdist (conftest.py): one
# process of make test's several, one test at a time.
BROKER_GROUP = "broker"


def refuse_outside_broker_group() -> None:
    """Stop a test that would use the broker for real beside the tests of other processes: the
    processes of a run share RabbitMQ's queues, and a worker would take another test's tasks."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return  # the whole suite in one process
    # pytest-xdist names a grouped test "<node id>@<group>"; pytest says which test runs, and
    # at which stage: "<node id> (setup)".
    if f"@{BROKER_GROUP} (" not in os.environ.get("PYTEST_CURRENT_TEST", ""):
        raise RuntimeError(
            "This test uses the broker for real beside other processes' tests: mark it `worker` "
            "or give it the `real_broker` fixture, which puts it in the broker group."
        )


class CeleryProcess:
    """A `celery --app backoffice ...` process of the test run, in its own process group."""

    def __init__(self, args: list[str], *, log: Path, mail_dir: Path, env: dict | None = None):
        refuse_outside_broker_group()
        self.log = log
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "backoffice.tests.worker_settings",
            "DATABASE_URL": database_url(),
            "TEST_MAIL_DIR": str(mail_dir),
            **(env or {}),
        }
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "--app", "backoffice", *args],
                env=environment,
                cwd=settings.BASE_DIR,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """Kill the process and its children at once, as a crashed machine would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop as `make run` and the containers do: SIGTERM to the process alone, which stops
        its own pool."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text()


class Worker(CeleryProcess):
    def __init__(self, mail_dir: Path, *, mail_pause: float = 0, env: dict | None = None):
        tag = uuid.uuid4().hex[:8]
        self.name = f"test-{tag}@{socket.gethostname()}"
        args = ["worker", "--queues", ",".join(QUEUES), "--concurrency", "1"]
        args += ["--hostname", self.name, "--without-gossip", "--without-mingle"]
        super().__init__(
            [*args, "--loglevel", "INFO"],
            log=mail_dir.parent / f"worker-{tag}.log",
            mail_dir=mail_dir,
            env={"TEST_MAIL_PAUSE": str(mail_pause), **(env or {})},
        )
        wait_for(lambda: "ready." in self.output(), timeout=60, what="the worker to start")


def wait_for(condition, *, timeout: float, what: str) -> None:
    until(condition, seconds=timeout, what=what, every=0.2)


def use_real_broker() -> None:
    """Publish to the broker for real (the suite otherwise runs tasks in-process)."""
    refuse_outside_broker_group()
    ensure_folders()
    clear_stale_fanout()
    celery_app.conf.task_always_eager = False


# A port where no broker listens: connecting is refused at once.
UNREACHABLE_BROKER_URL = "amqp://guest:guest@127.0.0.1:1//"


def reset_broker_connections() -> None:
    """Drop the pooled broker connections, so that the next publish uses the current URL."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    kombu.pools.reset()


@contextmanager
def broker_away(url: str = UNREACHABLE_BROKER_URL):
    """Point Celery away from the run's broker, by default to none at all, and stop running
    tasks in-process."""
    conf = celery_app.conf
    # A CELERY_BROKER_URL variable wins over conf.broker_url; the read and write URLs win over it.
    names = ("broker_read_url", "broker_write_url", "task_always_eager")
    saved = {name: conf.get(name) for name in names}
    conf.update(broker_read_url=url, broker_write_url=url, task_always_eager=False)
    reset_broker_connections()
    try:
        yield
    finally:
        conf.update(saved)
        reset_broker_connections()


def purge_queues() -> None:
    with celery_app.connection_for_write() as conn:
        for queue in QUEUES:
            conn.default_channel.queue_declare(queue=queue, durable=True, auto_delete=False)
            conn.default_channel.queue_purge(queue)
