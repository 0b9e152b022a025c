"""Processes started as production starts them: the Procfile's commands with production's
environment, against the test run's database and broker."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from backoffice.procfile import procfile_commands
from backoffice.tests.workers import CeleryProcess


def production_env(**overrides) -> dict:
    """The environment of a production process: only variables differ from the embedded default."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "SECURE_", "SESSION_", "CSRF_", "GUNICORN_", "TEST_"))
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "shop.example.com",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://shop.example.com",
        "STRIPE_WEBHOOK_SECRET": f"whsec_{secrets.token_hex(16)}",
        # The virtualenv's commands first, as `make run` puts them for its processes.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return env | overrides


def shared_cache_url(folder: Path) -> str:
    """Return the CACHE_URL of the processes a test starts: with the run's Redis, this test
    process's own database and key prefix, which its writes reach (a wine saved, the cache
    emptied between tests); else a file cache in folder, which those processes share."""
    if not os.environ.get("TEST_CACHE_URL"):
        return f"filecache://{folder / 'cache'}"
    cache = settings.CACHES["default"]
    prefix = cache.get("KEY_PREFIX")
    return f"{cache['LOCATION']}?key_prefix={prefix}" if prefix else cache["LOCATION"]


def env_example() -> dict[str, str]:
    """Return the values .env.example gives each variable."""
    lines = (Path(settings.BASE_DIR) / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if re.match(r"^[A-Z][A-Z0-9_]+=", line))


def procfile_command(name: str) -> str:
    """Return the command the Procfile runs for a process type."""
    commands = procfile_commands(Path(settings.BASE_DIR) / "Procfile")
    if name not in commands:
        raise LookupError(f"No {name} process in the Procfile.")
    return commands[name]


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


class ProcfileProcess(CeleryProcess):
    """A Procfile process run by a shell, as `make run` runs it, in its own process group."""

    def __init__(self, name: str, *, env: dict, log: Path):
        self.log = log
        with log.open("w") as output:
            self.process = subprocess.Popen(
                ["/bin/sh", "-c", f"exec {procfile_command(name)}"],
                env=env,
                cwd=settings.BASE_DIR,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
