import pytest
from django.core.cache import cache
from django.db import connection
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# Fuzz tests share the test's data and client across examples, and take their example count
# from the profile: the suite's, or `--hypothesis-profile=drills` for `make drills`.
hypothesis_settings.register_profile(
    "wineshop",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
hypothesis_settings.register_profile(
    "drills", parent=hypothesis_settings.get_profile("wineshop"), max_examples=400
)
hypothesis_settings.load_profile("wineshop")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def redis_server(tmp_path, settings, monkeypatch):
    """A Redis server of the test's own as the shop's cache (configured as CACHE_URL would be);
    stop() takes it away."""
    from backoffice.tests.redis_server import RedisServer, use_cache_url

    if not RedisServer.available():
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    use_cache_url(server.url, settings, monkeypatch)
    yield server
    server.stop()


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: row locks and concurrent connections")


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def real_broker():
    """Publish tasks to the run's broker for a real worker (the suite otherwise runs them
    in-process), with its queues emptied first."""
    from backoffice.celery import app as celery_app
    from backoffice.tests.workers import purge_queues, use_real_broker

    use_real_broker()
    purge_queues()
    yield
    celery_app.conf.task_always_eager = True


@pytest.fixture
def mail_dir(tmp_path):
    """A folder where the worker processes of a test write the emails they send."""
    folder = tmp_path / "mail"
    folder.mkdir()
    return folder
