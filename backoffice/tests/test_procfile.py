"""`make run`'s process runner: each process gets SIGTERM alone, and is killed only when it
outlives the grace period."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from django.conf import settings

from backoffice.procfile import procfile_commands
from backoffice.tests.production import procfile_command
from backoffice.tests.workers import database_url, wait_for

# A process with a child in its own process group, as a Celery worker has its pool: each writes
# the signals it receives into the folder given, and the parent stops its child on SIGTERM.
PARENT_WITH_CHILD = textwrap.dedent(
    """
    import os, signal, sys, time
    folder = sys.argv[1]
    def note(who):
        def handler(signum, frame):
            open(os.path.join(folder, who), "a").write(signal.Signals(signum).name + "\\n")
            if who == "parent":
                os.kill(child, signal.SIGUSR1)
                os.waitpid(child, 0)
                sys.exit(0)
        return handler
    child = os.fork()
    if child == 0:
        signal.signal(signal.SIGTERM, note("child"))
        signal.signal(signal.SIGUSR1, lambda *args: os._exit(0))
        while True:
            time.sleep(0.1)
    signal.signal(signal.SIGTERM, note("parent"))
    print("ready", flush=True)
    while True:
        time.sleep(0.1)
    """
)


class RunnerProcess:
    def __init__(self, tmp_path: Path, procfile: str, *names: str, grace: float = 10, env=None):
        (tmp_path / "Procfile").write_text(procfile)
        self.log = tmp_path / "runner.log"
        runner = [sys.executable, "-m", "backoffice.procfile", "--procfile", "Procfile"]
        with self.log.open("w") as output:
            self.process = subprocess.Popen(
                [*runner, "--grace", str(grace), *names],
                cwd=tmp_path,
                env={**os.environ, "PYTHONPATH": str(settings.BASE_DIR), **(env or {})},
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text()

    def interrupt(self) -> int:
        """Press Ctrl-C: the runner alone gets SIGINT, its processes being in sessions of their
        own. Return its exit code."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)


def test_the_procfile_is_read_by_name_in_order(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text("# a comment: not a process\nweb: gunicorn app\n\nworker: celery  worker\n")

    assert procfile_commands(procfile) == {"web": "gunicorn app", "worker": "celery  worker"}


def test_ctrl_c_sends_sigterm_to_each_process_and_not_to_its_children(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT_WITH_CHILD)
    runner = RunnerProcess(tmp_path, f"pool: {sys.executable} {script} {tmp_path}\n")
    wait_for(lambda: "ready" in runner.output(), timeout=30, what="the process to start")

    assert runner.interrupt() == 0
    assert (tmp_path / "parent").read_text() == "SIGTERM\n"
    assert not (tmp_path / "child").exists()
    assert "pool stopped in" in runner.output()


def test_a_process_that_ignores_sigterm_is_killed_with_its_group_after_the_grace(tmp_path):
    procfile = "stubborn: trap '' TERM; while true; do sleep 0.1; done\nquick: sleep 600\n"
    runner = RunnerProcess(tmp_path, procfile, grace=1)
    wait_for(lambda: "quick started" in runner.output(), timeout=30, what="the processes")
    time.sleep(0.5)  # the shell has set its trap

    assert runner.interrupt() == 1
    output = runner.output()
    assert "quick stopped in" in output
    assert "stubborn killed: still running after 1 s" in output


def test_a_process_that_ends_stops_the_others(tmp_path):
    runner = RunnerProcess(tmp_path, "short: echo done\nlong: sleep 600\n")

    assert runner.process.wait(timeout=30) == 1
    output = runner.output()
    assert "short ended on its own (exit code 0)" in output
    assert "long stopped in" in output


def test_naming_a_process_the_procfile_lacks_is_refused(tmp_path):
    runner = RunnerProcess(tmp_path, "web: sleep 600\n", "web", "wrker")

    assert runner.process.wait(timeout=30) == 2
    assert "not in Procfile: wrker" in runner.output()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_ctrl_c_stops_the_procfile_worker_cleanly_within_the_grace(real_broker, tmp_path):
    env = {
        "DJANGO_SETTINGS_MODULE": "backoffice.tests.worker_settings",
        "DATABASE_URL": database_url(),
        "TEST_MAIL_DIR": str(tmp_path / "mail"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    worker = f"worker: {procfile_command('worker')} --hostname procfile-test@%h\n"
    runner = RunnerProcess(tmp_path, worker, env={**env, "PYTHONPATH": str(settings.BASE_DIR)})
    wait_for(lambda: "ready." in runner.output(), timeout=60, what="the worker to start")

    assert runner.interrupt() == 0
    output = runner.output()
    assert "worker stopped in" in output
    # Its pool children were stopped by the worker, not by a signal of their own.
    assert "exited with 'signal 15" not in output
    assert "Traceback" not in output
