"""docker-compose.yml's app services run from the production image, for `make image-test`.

The containers share the host's network, so they reach the test run's PostgreSQL database,
RabbitMQ, Redis and the Stripe sandbox on 127.0.0.1 (.ci/docker-compose.ci.yml).
"""

import json
import os
import secrets
import subprocess
from pathlib import Path

import requests
import yaml
from django.conf import settings

from backoffice.tests.workers import database_url, wait_for

PROJECT = "wineshop-image-test"
SERVICES = ["web", "worker", "beat", "flower"]
# Variables docker-compose.yml requires of services that don't run as containers here: db,
# rabbitmq and the optional stripe (the machine's own services stand in for them), and proxy (its
# configuration runs natively, with the host names backoffice/tests/test_proxy.py gives it).
NOT_STARTED = {
    "POSTGRES_PASSWORD": "-",
    "RABBITMQ_DEFAULT_PASS": "-",
    "STRIPE_SECRET_KEY": "-",
    "SITE_DOMAIN": "shop.example.test",
    "FLOWER_DOMAIN": "flower.example.test",
}
# The ports docker-compose.yml's health checks probe inside the containers.
WEB_PORT, FLOWER_PORT = 8000, 5555


def compose(*args: str, env: dict, files=None, timeout: float = 300) -> subprocess.CompletedProcess:
    base = Path(settings.BASE_DIR)
    files = files or [base / "docker-compose.yml", base / ".ci" / "docker-compose.ci.yml"]
    command = ["docker-compose", "--project-name", PROJECT, "--project-directory", str(base)]
    command += [arg for path in files for arg in ("--file", str(path))]
    return subprocess.run(
        [*command, *args], cwd=base, env=env, capture_output=True, text=True, timeout=timeout
    )


def ci_compose_file(folder: Path) -> Path:
    """Write docker-compose.yml with .ci/docker-compose.ci.yml applied, as one file.

    On the host's network a container publishes no port and joins no other network (Docker
    refuses either with it), and an override file can add those but not take them away: the
    services run here lose theirs.
    """
    base = Path(settings.BASE_DIR)
    stack = yaml.safe_load((base / "docker-compose.yml").read_text())
    override = yaml.safe_load((base / ".ci" / "docker-compose.ci.yml").read_text())
    for name, changes in override["services"].items():
        service = stack["services"][name]
        service.pop("ports", None)
        service.pop("networks", None)
        _merge(service, changes)
    path = folder / "docker-compose.yml"
    path.write_text(yaml.safe_dump(stack, sort_keys=False))
    return path


def _merge(target: dict, changes: dict) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def docker(*args: str) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"docker {' '.join(args)}: {result.stderr}"
    return result.stdout


class ContainerStack:
    """setup, web, worker, beat and flower containers behind the proxy's configuration, run by
    Debian's nginx on this machine (its image can't be pulled here); removed even on failure."""

    def __init__(self, folder: Path, *, mail_dir: Path, cache_url: str, proxy):
        self.proxy = proxy
        # What the customer sees: the proxy, over HTTPS with its certificate.
        self.port = proxy.https_port
        self.url = f"https://127.0.0.1:{self.port}"
        self.plain_url = f"http://127.0.0.1:{proxy.http_port}"
        self.secure_origin = "https://127.0.0.1"  # nginx redirects to the host, on port 443
        self.verify = str(proxy.certificate)
        self.gunicorn_url = f"http://127.0.0.1:{WEB_PORT}"
        self.flower_auth = ("operator", secrets.token_urlsafe(16))
        self.file = ci_compose_file(folder)
        env_file = folder / "stack.env"
        variables = {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_CSRF_TRUSTED_ORIGINS": self.url,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CACHE_URL": cache_url,
            "EMAIL_URL": "filemail://",
            "EMAIL_FILE_PATH": "/mail",
            "STRIPE_SECRET_KEY": "",
            "STRIPE_SANDBOX_URL": settings.STRIPE_SANDBOX_URL,
            "STRIPE_WEBHOOK_SECRET": settings.STRIPE_WEBHOOK_SECRET,
            "GUNICORN_BIND": f"127.0.0.1:{WEB_PORT}",
            "GUNICORN_WORKERS": "2",
            "CELERY_WORKER_CONCURRENCY": "1",
            "FLOWER_ADDRESS": "127.0.0.1",
            "FLOWER_PORT": str(FLOWER_PORT),
            "FLOWER_BASIC_AUTH": ":".join(self.flower_auth),
        }
        env_file.write_text("".join(f"{name}={value}\n" for name, value in variables.items()))
        # The container's user (uid 1000) writes the emails into the test's folder.
        mail_dir.chmod(0o777)
        self.env = {
            **os.environ,
            **NOT_STARTED,
            "WINESHOP_ENV_FILE": str(env_file),
            "WINESHOP_CI_MAIL_DIR": str(mail_dir),
        }

    def compose(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return compose(*args, env=self.env, files=[self.file], timeout=timeout)

    def setup(self) -> None:
        """Run compose's one-off setup service: migrations, schedule, roles, broker."""
        result = self.compose("run", "--rm", "--no-deps", "setup")
        assert result.returncode == 0, f"setup: {result.stdout}{result.stderr}"

    def start(self) -> None:
        for port in (WEB_PORT, FLOWER_PORT):
            assert _free(port), f"port {port} is taken: the containers' health checks need it"
        result = self.compose("up", "--detach", "--no-deps", "--no-build", *SERVICES)
        assert result.returncode == 0, f"up: {result.stdout}{result.stderr}"
        for service in ("web", "worker", "flower"):
            wait_for(
                lambda service=service: self.health(service) == "healthy",
                timeout=180,
                what=f"the {service} container to report healthy ({self.logs()[-2000:]})",
            )
        self.proxy.start()

    def container(self, service: str) -> str:
        result = self.compose("ps", "--quiet", service)
        container_id = result.stdout.strip()
        assert container_id, f"no {service} container: {result.stderr}"
        return container_id

    def health(self, service: str) -> str:
        state = json.loads(
            docker("inspect", "--format", "{{json .State}}", self.container(service))
        )
        assert state["Status"] == "running", f"{service} is {state['Status']}: {self.logs()}"
        return state["Health"]["Status"]

    def logs(self, service: str = "") -> str:
        result = self.compose(
            "logs", "--no-color", "--tail", "300", *([service] if service else [])
        )
        return result.stdout

    def stop(self) -> None:
        self.proxy.stop()
        self.compose("down", "--volumes", "--remove-orphans", "--timeout", "20")


def _free(port: int) -> bool:
    try:
        requests.get(f"http://127.0.0.1:{port}/", timeout=2)
    except requests.ConnectionError:
        return True
    return False
