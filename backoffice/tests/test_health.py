import socket

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from backoffice.celery import app as celery_app
from backoffice.health import worker_health
from backoffice.tests.workers import Worker, broker_away

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_broker():
    with broker_away():
        yield


@pytest.fixture
def silent_broker():
    """A port that accepts connections and never says a word, as a hung broker would."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        saved = celery_app.conf.broker_connection_timeout
        celery_app.conf.broker_connection_timeout = 0.5
        try:
            with broker_away(f"amqp://guest:guest@127.0.0.1:{port}//"):
                yield
        finally:
            celery_app.conf.broker_connection_timeout = saved


@pytest.fixture
def broker_without_workers(tmp_path):
    """A filesystem broker of this test's own, which no worker of any run listens to."""
    conf = celery_app.conf
    saved = conf.broker_transport_options
    folders = {key: tmp_path / "broker" / key for key in ("messages", "control")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    conf.broker_transport_options = {
        **saved,
        "data_folder_in": str(folders["messages"]),
        "data_folder_out": str(folders["messages"]),
        "control_folder": str(folders["control"]),
    }
    try:
        with broker_away("filesystem://"):
            yield
    finally:
        conf.broker_transport_options = saved


@pytest.fixture
def flower(settings):
    settings.FLOWER_URL = "https://flower.example.com/"
    return 'href="https://flower.example.com/"'


def test_health_is_unknown_when_the_broker_is_away(no_broker):
    health = worker_health()
    assert health.state == "unknown"
    assert health.workers == ()
    assert health.error


def test_a_broker_that_never_answers_gives_unknown_instead_of_hanging(silent_broker):
    health = worker_health()
    assert health.state == "unknown"
    assert health.error


def test_health_is_down_when_the_broker_answers_and_no_worker_does(broker_without_workers):
    health = worker_health()
    assert health.state == "down", health.error
    assert health.workers == ()


def test_health_is_cached_between_checks(no_broker):
    first = worker_health()
    assert worker_health() == first
    assert worker_health(fresh=True).checked_at > first.checked_at


def test_admin_index_shows_unknown_workers_when_the_broker_is_away(no_broker, admin_client, flower):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert response.context["worker_health"].state == "unknown"
    page = response.content.decode()
    assert "Workers" in page
    assert "unknown" in page
    assert flower in page
    # The application list is still there, below the card.
    assert reverse("admin:orders_order_changelist") in page


def test_admin_index_shows_workers_to_periodic_task_viewers(no_broker, client, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_periodictask"))
    client.force_login(viewer)
    response = client.get(reverse("admin:index"))
    assert response.context["worker_health"].state == "unknown"


def test_admin_index_hides_workers_from_staff_without_permission(client, django_user_model):
    staff = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(staff)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "worker_health" not in response.context
    assert "Workers" not in response.content.decode()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_running_worker_is_reported_ok(real_broker, mail_dir):
    worker = Worker(mail_dir)
    try:
        health = worker_health(fresh=True)
    finally:
        worker.stop()
    assert health.state == "ok", health.error
    # Workers of other runs may share the broker: this one is among those online.
    assert worker.name in health.workers
