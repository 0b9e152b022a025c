"""Flower as the Procfile starts it, watching a real worker on the run's broker."""

import socket

import pytest
import requests

from backoffice.tests.production import ProcfileProcess, env_example, production_env
from backoffice.tests.workers import CeleryProcess, Worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

CREDENTIALS = ("user", "secret")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Flower(CeleryProcess):
    def __init__(self, folder, mail_dir):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(
            [
                "flower",
                "--address=127.0.0.1",
                f"--port={self.port}",
                "--basic-auth={}:{}".format(*CREDENTIALS),
                "--persistent=True",
                f"--db={folder / 'flower.db'}",
            ],
            log=folder / "flower.log",
            mail_dir=mail_dir,
        )
        wait_for(self.answers, timeout=60, what="Flower to listen")

    def answers(self) -> bool:
        assert self.process.poll() is None, self.output()
        try:
            requests.get(self.url, timeout=2)
        except requests.ConnectionError:
            return False
        return True

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(f"{self.url}{path}", timeout=10, **kwargs)


@pytest.fixture
def worker(real_broker, mail_dir):
    worker = Worker(mail_dir)
    yield worker
    worker.stop()


@pytest.fixture
def flower(worker, tmp_path, mail_dir):
    flower = Flower(tmp_path, mail_dir)
    yield flower
    flower.stop()


def test_flower_api_refuses_requests_without_the_right_credentials(flower):
    assert flower.get("/api/workers").status_code == 401
    assert flower.get("/api/workers", auth=("user", "wrong")).status_code == 401
    assert flower.get("/api/workers", auth=("intruder", "secret")).status_code == 401


def test_flower_api_lists_the_running_worker(flower, worker):
    name = worker.name

    def listed() -> bool:
        # refresh=1 asks the workers again instead of answering from what Flower has seen so far.
        response = flower.get("/api/workers?refresh=1", auth=CREDENTIALS)
        assert response.status_code == 200, response.text
        return name in response.json()

    wait_for(listed, timeout=60, what=f"Flower to list {name}")


def test_flower_refuses_to_start_in_production_with_the_placeholder_password(tmp_path):
    env = production_env(
        FLOWER_BASIC_AUTH=env_example()["FLOWER_BASIC_AUTH"],
        FLOWER_PORT=str(free_port()),
        FLOWER_DB=str(tmp_path / "flower.db"),
    )
    flower = ProcfileProcess("flower", env=env, log=tmp_path / "flower.log")
    try:
        assert flower.process.wait(timeout=60) != 0
    finally:
        flower.stop()
    assert "FLOWER_BASIC_AUTH still holds the placeholder of .env.example" in flower.output()
