"""The production image, run as docker-compose.yml runs it: `make image-test` builds the image and
runs this module on PostgreSQL, RabbitMQ and Redis (the suite's other runs skip it)."""

import os
from dataclasses import dataclass

import pytest
import requests

from backoffice.tests.containers import (
    FLOWER_PORT,
    NOT_STARTED,
    SERVICES,
    WEB_PORT,
    ContainerStack,
    compose,
    docker,
)
from backoffice.tests.test_production import customer_buys_and_pays
from backoffice.tests.test_proxy import NGINX, Proxy
from backoffice.tests.workers import wait_for
from payments.tests.sandbox import running_sandbox

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.worker,
    pytest.mark.image,
]

# Where a container may write: its own temporary files and var/ (Flower's volume is not shown).
WRITABLE = ("/tmp", "/app/var")


@dataclass
class Upstream:
    address: str


@pytest.fixture
def containers(production_services, real_broker, tmp_path, mail_dir, settings):
    if not os.environ.get("WINESHOP_IMAGE_TEST"):
        pytest.skip("`make image-test` builds the production image and runs these tests")
    cache_url = os.environ.get("TEST_CACHE_URL")
    if not cache_url:
        pytest.skip("the containers share the run's Redis (TEST_CACHE_URL=redis://...)")
    if NGINX is None:
        pytest.fail("the image test runs the proxy's configuration with Debian's nginx")
    (tmp_path / "proxy").mkdir()
    web, flower = Upstream(f"127.0.0.1:{WEB_PORT}"), Upstream(f"127.0.0.1:{FLOWER_PORT}")
    proxy = Proxy(tmp_path / "proxy", web=web, flower=flower)
    # Stripe's events go to gunicorn directly: the sandbox doesn't know the proxy's certificate.
    with running_sandbox(settings, webhook_url=f"http://{web.address}/payment/webhook/"):
        stack = ContainerStack(tmp_path, mail_dir=mail_dir, cache_url=cache_url, proxy=proxy)
        try:
            stack.setup()
            stack.start()
            yield stack
        finally:
            print(stack.logs())  # shown by pytest when the test failed
            stack.stop()


def test_the_compose_file_is_valid(tmp_path):
    if not os.environ.get("WINESHOP_IMAGE_TEST"):
        pytest.skip("`make image-test` runs docker-compose")
    (tmp_path / "env").write_text("")
    env = {**os.environ, **NOT_STARTED, "WINESHOP_ENV_FILE": str(tmp_path / "env")}
    result = compose("config", "--quiet", env={**env, "WINESHOP_CI_MAIL_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr


def test_a_customer_buys_and_pays_through_the_containers(
    containers, mail_dir, django_user_model, settings
):
    customer_buys_and_pays(
        containers, mail_dir=mail_dir, user_model=django_user_model, settings=settings
    )

    # Beat runs the schedule from the database, next to the worker that sent the emails.
    assert "DatabaseScheduler" in containers.logs("beat")
    for service in ("web", "worker", "flower"):
        assert containers.health(service) == "healthy"

    # Flower, on its own host name behind the proxy, asks for its credentials.
    def flower(**kwargs) -> requests.Response:
        return containers.proxy.https(
            "GET", "/api/workers?refresh=1", headers={"Host": "flower.example.test"}, **kwargs
        )

    assert flower().status_code == 401
    # Flower asks the workers over the broker; the worker container answers it.
    wait_for(
        lambda: flower(auth=containers.flower_auth).json(),
        timeout=60,
        what="Flower to see the worker",
    )

    for service in SERVICES:
        container = containers.container(service)
        user = containers.compose("exec", "-T", service, "id", "-un").stdout.strip()
        assert user == "wineshop", f"{service} runs as {user!r}"
        # Where the README says a container writes, its user may write: Flower its database.
        folder = "var/flower" if service == "flower" else "var"
        writable = containers.compose("exec", "-T", service, "test", "-w", folder)
        assert writable.returncode == 0, f"{service}'s user can't write /app/{folder}"
        written = [line.split(" ", 1)[1] for line in docker("diff", container).splitlines()]
        # Where the test mounts folders of its own (the worker's mail) is not the image's disk.
        mounts = docker(
            "inspect", "--format", "{{range .Mounts}}{{.Destination}} {{end}}", container
        )
        allowed = (*WRITABLE, *mounts.split())
        outside = [path for path in written if not path.startswith(allowed)]
        # docker diff lists the parent folders of what was written as changed too.
        outside = [path for path in outside if not any(w.startswith(path) for w in allowed)]
        assert outside == [], f"{service} wrote outside {allowed}: {outside}"
