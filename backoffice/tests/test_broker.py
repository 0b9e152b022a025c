"""The embedded default broker: a worker on it stops at its next look at the folders."""

import socket

import pytest
from celery.worker import state as worker_state
from kombu import Connection, Queue

from backoffice import broker
from backoffice.broker import FilesystemTransport, ensure_folders
from backoffice.celery import app


@pytest.fixture
def connection(settings, tmp_path):
    folders = {
        "data_folder_in": str(tmp_path / "messages"),
        "data_folder_out": str(tmp_path / "messages"),
        "control_folder": str(tmp_path / "control"),
    }
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = folders
    ensure_folders()
    options = {**folders, "store_processed": False, "polling_interval": 0.01}
    with Connection(
        "filesystem://", transport=FilesystemTransport, transport_options=options
    ) as conn:
        queue = Queue("default")(conn.default_channel)
        queue.declare()
        consumer = conn.Consumer(queue, callbacks=[lambda body, message: message.ack()])
        consumer.consume()
        yield conn


def looks_until_timeout(monkeypatch, connection, timeout: float) -> int:
    """Drain with nothing to deliver; return how many times the transport waited to look again."""
    waits = []
    monkeypatch.setattr(broker, "sleep", waits.append)
    with pytest.raises(socket.timeout):
        connection.drain_events(timeout=timeout)
    return len(waits)


def test_a_running_worker_waits_out_the_timeout(monkeypatch, connection):
    # No wait is real here, so the clock alone ends the drain: it looks again until then.
    monkeypatch.setattr(worker_state, "should_stop", None)
    monkeypatch.setattr(worker_state, "should_terminate", None)

    assert looks_until_timeout(monkeypatch, connection, timeout=0.05) > 1


@pytest.mark.parametrize("flag", ["should_stop", "should_terminate"])
def test_a_stopping_worker_ends_the_drain_at_the_first_empty_look(monkeypatch, connection, flag):
    monkeypatch.setattr(worker_state, flag, 0)  # what SIGTERM (warm) or SIGQUIT (cold) sets

    assert looks_until_timeout(monkeypatch, connection, timeout=30) == 0


def test_the_embedded_default_uses_it(settings):
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        pytest.skip("The run's broker is not the filesystem transport.")
    with app.connection_for_read() as connection:
        assert isinstance(connection.transport, FilesystemTransport)
