"""docker-compose.yml and the Dockerfile, checked against what runs natively.

No Docker engine runs the tests: instead every command a container runs must be one the Makefile
or the Procfile runs, so the suite's native runs test what the containers run.
"""

import ipaddress
import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml
from django.conf import settings

BASE = Path(settings.BASE_DIR)
REQUIRED = {"web", "worker", "beat", "flower", "db", "rabbitmq", "redis", "mail", "setup", "stripe"}
REQUIRED |= {"proxy"}
# Images whose command is the arguments of their entry point.
ENTRYPOINTS = {"stripe/stripe-cli": "stripe"}
PINNED = re.compile(r"^[\w./-]+:v?\d+(\.\d+)+[\w.-]*$")


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((BASE / "docker-compose.yml").read_text())["services"]


def ours(service: dict) -> bool:
    """Whether a service runs the image built from our Dockerfile."""
    return "build" in service


def normalise(command: str) -> str:
    command = command.replace("$$", "$")  # compose's escape for a variable the shell expands
    command = command.replace("$(PY) ", "python ").replace("$(VENV)/bin/", "")
    # The web's address: localhost natively, the service's name in the stack.
    command = command.replace("localhost:$(PORT)", "<web>").replace("web:8000", "<web>")
    return " ".join(command.split())


def native_commands() -> set[str]:
    procfile = (BASE / "Procfile").read_text().splitlines()
    makefile = (BASE / "Makefile").read_text().splitlines()
    commands = [line.split(":", 1)[1] for line in procfile if re.match(r"^\w+:", line)]
    commands += [line.lstrip("\t@") for line in makefile if line.startswith("\t")]
    return {normalise(command) for command in commands}


def commands_of(service: dict) -> list[str]:
    command = service["command"]
    if isinstance(command, list):
        command = command[2] if command[:2] == ["sh", "-c"] else shlex.join(command)
    image = service.get("image", "").split(":")[0]
    if image in ENTRYPOINTS:
        command = f"{ENTRYPOINTS[image]} {command}"
    return [normalise(part) for part in command.split("&&")]


def test_the_stack_has_every_service(services):
    assert set(services) >= REQUIRED
    assert services["stripe"]["profiles"] == ["stripe"]
    assert commands_of(services["stripe"]) == ["stripe listen --forward-to <web>/payment/webhook/"]
    assert "management" in services["rabbitmq"]["image"]
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in services["db"]["volumes"])
    assert services["redis"]["image"].startswith("redis:")


def test_every_image_is_pinned_and_ours_is_built_on_a_pinned_base(services):
    project = tomllib.loads((BASE / "pyproject.toml").read_text())["project"]
    for name, service in services.items():
        image = service["image"]
        assert PINNED.match(image), f"{name}: {image} is not pinned to a version"
        if ours(service):
            assert image == f"wine-shop:{project['version']}", name
    bases = re.findall(r"^FROM\s+(\S+)", (BASE / "Dockerfile").read_text(), re.M)
    assert bases
    for base in bases:
        assert PINNED.match(base) and "latest" not in base, base


def test_every_command_is_one_the_makefile_or_procfile_runs(services):
    native = native_commands()
    checked = 0
    for name, service in services.items():
        if ours(service):
            assert "command" in service, f"{name} runs the image's default command"
        for command in commands_of(service) if "command" in service else ():
            assert command in native, f"{name}: {command!r} is run by neither Makefile nor Procfile"
            checked += 1
    assert checked >= 9  # web, worker, beat, flower, stripe and the four set-up steps


def test_the_setup_service_prepares_what_make_run_prepares(services):
    steps = [command.split()[2] for command in commands_of(services["setup"])]
    assert steps == ["migrate", "setup_schedule", "setup_roles", "prepare_broker"]
    run = (BASE / "Makefile").read_text().split("\nrun: seed\n", 1)[1].split("\n\n", 1)[0]
    for step in steps[1:]:
        assert f"$(PY) manage.py {step}" in run


def test_every_variable_the_stack_uses_is_in_env_example(services):
    example = (BASE / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", example, re.M))
    for name, service in services.items():
        environment = service.get("environment") or {}
        used = set(environment if isinstance(environment, dict) else ())
        # ${VAR} for compose, $${VAR} for the container's shell: both come from .env.
        used |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", json.dumps(service)))
        # Names the file itself (.env unless the image test gives its own); not in .env.
        used.discard("WINESHOP_ENV_FILE")
        assert used - listed == set(), f"{name} uses variables .env.example does not list"
        if ours(service):
            assert service["env_file"] == "${WINESHOP_ENV_FILE:-.env}"


def test_services_start_in_order_and_report_their_health(services):
    healthy = {"db", "rabbitmq", "redis"}
    for name in healthy | {"web"}:
        assert "test" in services[name]["healthcheck"], name
    for name in ("web", "worker", "beat", "flower"):
        depends = services[name]["depends_on"]
        assert depends["setup"] == {"condition": "service_completed_successfully"}, name
        for dependency in healthy:
            assert depends[dependency] == {"condition": "service_healthy"}, (name, dependency)
    for name in ("worker", "flower"):
        assert "test" in services[name]["healthcheck"], name
    # The image's own healthcheck probes the web server: services without one switch it off.
    for name in ("setup", "beat"):
        assert services[name]["healthcheck"] == {"disable": True}, name
    assert services["stripe"]["depends_on"]["web"] == {"condition": "service_healthy"}
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])


def test_workers_scale_out_and_beat_stays_alone(services):
    worker = services["worker"]
    for key in ("container_name", "ports", "volumes", "hostname"):
        assert key not in worker, f"worker has {key}: `--scale worker=4` would clash"
    assert services["beat"]["deploy"] == {"replicas": 1}
    assert not any("container_name" in service for service in services.values())
    # No local state shared between containers: each named volume belongs to one service.
    owners: dict[str, list[str]] = {}
    for name, service in services.items():
        for volume in service.get("volumes", ()):
            owners.setdefault(volume.split(":")[0], []).append(name)
    assert all(len(names) == 1 for names in owners.values()), owners
    for name in ("web", "worker", "beat", "setup"):
        assert "volumes" not in services[name], f"{name} keeps state on its host's disk"


def test_flower_needs_credentials_and_is_reached_through_the_proxy_only(services):
    flower = services["flower"]
    assert "--basic-auth=${FLOWER_BASIC_AUTH:?" in commands_of(flower)[0]
    assert "ports" not in flower
    assert flower["expose"] == ["5555"]
    procfile = (BASE / "Procfile").read_text()
    assert "--basic-auth=${FLOWER_BASIC_AUTH:?" in procfile
    # Natively on loopback unless told otherwise, and /metrics behind the credentials too.
    assert "--address=${FLOWER_ADDRESS:-127.0.0.1}" in procfile
    assert "--conf=backoffice/flowerconfig.py" in procfile


def test_the_image_runs_as_a_user_with_a_healthcheck_and_no_secret():
    dockerfile = (BASE / "Dockerfile").read_text()
    assert re.search(r"^USER wineshop$", dockerfile, re.M)
    assert "/healthz" in re.search(r"^HEALTHCHECK .*(?:\n\s+.*)*", dockerfile, re.M).group()
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.M).group(1))
    assert normalise(" ".join(cmd)) in native_commands()
    assert "collectstatic" in dockerfile
    assert not re.search(r"^ENV .*(SECRET|PASSWORD)", dockerfile, re.M)
    ignored = (BASE / ".dockerignore").read_text().split()
    assert {".env", "var", ".venv", ".git", "deploy/certs"} <= set(ignored)


def public_ports(service: dict) -> list[str]:
    """Ports published on every interface of the host (loopback-only ones are not)."""
    return [port for port in service.get("ports", ()) if not port.startswith("127.0.0.1:")]


def test_the_proxy_is_the_only_service_the_internet_reaches(services):
    assert public_ports(services["proxy"]) == ["80:80", "443:443"]
    for name, service in services.items():
        if name != "proxy":
            assert public_ports(service) == [], f"{name} is published past the proxy"
    web = services["web"]
    assert "ports" not in web
    assert web["expose"] == ["8000"]
    assert web["environment"]["GUNICORN_BIND"] == "0.0.0.0:8000"


def test_gunicorn_and_django_trust_exactly_the_proxy_in_front_of_them(services):
    compose = yaml.safe_load((BASE / "docker-compose.yml").read_text())
    [subnet] = compose["networks"]["default"]["ipam"]["config"]
    address = services["proxy"]["networks"]["default"]["ipv4_address"]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(subnet["subnet"])
    web = services["web"]["environment"]
    # gunicorn takes X-Forwarded-Proto from that one address, and no name (it accepts none).
    assert web["GUNICORN_FORWARDED_ALLOW_IPS"] == address
    # The proxy replaces X-Forwarded-For with the address it saw: exactly one hop to trust.
    assert web["DJANGO_TRUSTED_PROXY_HOPS"] == "1"
    template = (BASE / "deploy/nginx/wine-shop.conf.template").read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in template
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in template
    assert "$proxy_add_x_forwarded_for" not in template
    # The proxy forwards to the services by the names and ports they expose.
    assert "set $web web:8000;" in template and "set $flower flower:5555;" in template


def test_the_proxy_renders_its_configuration_from_the_stack_environment(services):
    proxy = services["proxy"]
    assert PINNED.match(proxy["image"]) and proxy["image"].startswith("nginx:")
    mounted = {volume.split(":")[1]: volume.split(":")[0] for volume in proxy["volumes"]}
    template = mounted["/etc/nginx/templates/default.conf.template"]
    assert (BASE / template).is_file()
    used = set(re.findall(r"\$\{(\w+)\}", (BASE / template).read_text()))
    assert (
        used
        == set(proxy["environment"])
        == {
            "SITE_DOMAIN",
            "FLOWER_DOMAIN",
            "IMPORT_MAX_UPLOAD_BYTES",
        }
    )
    # The same upload limit as Django's, 51 MB unless .env says otherwise.
    assert proxy["environment"]["IMPORT_MAX_UPLOAD_BYTES"] == "${IMPORT_MAX_UPLOAD_BYTES:-53477376}"
    assert proxy["depends_on"]["web"] == {"condition": "service_healthy"}
