import socket
import threading

import pytest
from django.db import connection
from django.test import Client

from backoffice.tests.redis_server import free_port, use_cache_url

pytestmark = pytest.mark.django_db


def test_healthz_reports_the_cache_away_as_degraded_and_stays_in_service(redis_server):
    assert Client().get("/healthz").json()["checks"]["cache"] == "ok"
    redis_server.stop()

    response = Client().get("/healthz")

    # The shop still sells without its cache: a load balancer must keep sending customers.
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "broker": "ok", "cache": "down"},
        "down": ["cache"],
    }
    redis_server.start()
    assert Client().get("/healthz").json()["status"] == "ok"


def test_healthz_is_down_when_the_broker_is_down_whatever_the_cache(settings, monkeypatch):
    from backoffice.tests.workers import broker_away

    use_cache_url(f"redis://127.0.0.1:{free_port()}/0", settings, monkeypatch)
    with broker_away():
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert response.json()["down"] == ["broker", "cache"]


def check(answers: list) -> None:
    try:
        answers.append(Client().get("/healthz"))
    finally:
        connection.close()


def test_healthz_answers_in_time_when_the_cache_never_answers(settings, monkeypatch):
    answers = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # the kernel accepts connections; nothing ever answers them
        use_cache_url(f"redis://127.0.0.1:{listener.getsockname()[1]}/0", settings, monkeypatch)
        # Bounded, so that a check waiting on the cache fails the test instead of hanging it.
        thread = threading.Thread(target=check, args=(answers,))
        thread.start()
        thread.join(timeout=10)
    assert answers, "/healthz waited on the cache"
    assert answers[0].status_code == 200
    assert answers[0].json()["checks"]["cache"] == "down"
