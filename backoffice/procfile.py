"""Run the Procfile's processes together in the foreground: `make run`.

    python -m backoffice.procfile web worker beat flower

Each process runs in a session of its own, so a terminal's Ctrl-C reaches only this runner. On
Ctrl-C, on SIGTERM, or when one process ends, every process that is left gets SIGTERM, sent to
the process alone and not to its group: a Celery worker stops its pool itself, and a pool child
that receives the signal directly dies mid-task, which can hold the worker for half a minute. (A
command of several (`a; b`, `a && b`) runs in a shell that passes no signal on: its whole group
gets it.) A process still running after the grace period is killed with its whole group. The
runner says how long each process took to stop, and exits non-zero when one ended on its own or
had to be killed.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

GRACE_SECONDS = 10.0
SHELL_LISTS = re.compile(r"[;&|\n]")
COLOURS = ("36", "33", "32", "35", "34", "31")  # cyan, yellow, green, magenta, blue, red


def procfile_commands(path: Path) -> dict[str, str]:
    """Return the Procfile's commands by process name, in the file's order."""
    commands = {}
    for line in path.read_text().splitlines():
        if match := re.match(r"^([\w-]+):\s*(\S.*)$", line):
            commands[match[1]] = match[2]
    return commands


class Runner:
    def __init__(self, commands: dict[str, str], *, grace: float = GRACE_SECONDS, out=None):
        self.commands = commands
        self.grace = grace
        self.out = out or sys.stdout
        self.colour = self.out.isatty()
        self.width = max(map(len, commands), default=0)
        self.processes: dict[str, subprocess.Popen] = {}
        self.alone: dict[str, bool] = {}
        self.readers: list[threading.Thread] = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.ended_alone: list[str] = []

    def say(self, name: str, text: str) -> None:
        label = f"{time.strftime('%H:%M:%S')} {name.ljust(self.width)} |"
        if self.colour:
            index = list(self.commands).index(name) if name in self.commands else -1
            label = f"\033[{COLOURS[index % len(COLOURS)] if index >= 0 else '1'}m{label}\033[0m"
        with self.lock:
            self.out.write(f"{label} {text}\n")
            self.out.flush()

    def start(self) -> None:
        for name, command in self.commands.items():
            # exec: the signal goes to the command, not to a shell waiting for it.
            alone = not SHELL_LISTS.search(command)
            process = subprocess.Popen(  # noqa: S603 - the Procfile's own commands
                ["/bin/sh", "-c", f"exec {command}" if alone else command],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                text=True,
                errors="replace",
            )
            self.processes[name] = process
            self.alone[name] = alone
            self.say("system", f"{name} started (pid {process.pid})")
            reader = threading.Thread(target=self._relay, args=(name, process), daemon=True)
            reader.start()
            self.readers.append(reader)

    def _relay(self, name: str, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.say(name, line.rstrip("\n"))
        process.wait()
        if not self.done.is_set():
            self.ended_alone.append(name)
            self.say("system", f"{name} ended on its own (exit code {process.returncode})")
            self.done.set()

    def stop(self) -> bool:
        """SIGTERM every running process, wait up to the grace period, kill what is left; return
        whether everything stopped in time."""
        self.done.set()
        started = time.monotonic()
        running = {name: p for name, p in self.processes.items() if p.poll() is None}
        for name, process in running.items():
            self.say("system", f"stopping {name}")
            if self.alone[name]:
                os.kill(process.pid, signal.SIGTERM)
            else:
                os.killpg(process.pid, signal.SIGTERM)
        in_time = True
        while running:
            for name, process in list(running.items()):
                if process.poll() is not None:
                    took = time.monotonic() - started
                    self.say("system", f"{name} stopped in {took:.1f} s")
                    del running[name]
            if running and time.monotonic() - started > self.grace:
                for name, process in running.items():
                    self.say("system", f"{name} killed: still running after {self.grace:g} s")
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                in_time = False
                break
            time.sleep(0.05)
        for reader in self.readers:
            reader.join(timeout=1)
        return in_time

    def run(self) -> int:
        def request_stop(signum, frame):
            self.say("system", f"{signal.Signals(signum).name} received")
            self.done.set()

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        self.start()
        self.done.wait()
        in_time = self.stop()
        return 0 if in_time and not self.ended_alone else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the Procfile's processes together.")
    parser.add_argument("names", nargs="*", help="process names (all when none)")
    parser.add_argument("--procfile", type=Path, default=Path("Procfile"))
    parser.add_argument("--grace", type=float, default=GRACE_SECONDS)
    args = parser.parse_args(argv)
    commands = procfile_commands(args.procfile)
    unknown = [name for name in args.names if name not in commands]
    if unknown:
        parser.error(f"not in {args.procfile}: {', '.join(unknown)}")
    chosen = {name: commands[name] for name in args.names} if args.names else commands
    return Runner(chosen, grace=args.grace).run()


if __name__ == "__main__":
    sys.exit(main())
