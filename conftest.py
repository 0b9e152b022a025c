import pytest
from django.core.cache import cache
from django.db import connection
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from core.cache import CacheVersion

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


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Send the tests that use the run's broker for real (its queues, workers, Beat and Flower,
    or the production image's stack) to one process of make test's several, one at a time: every
    process of the run shares RabbitMQ's queues, and a worker would take another test's tasks.
    A test that starts a worker or publishes for real without being sent there is stopped
    (backoffice.tests.workers.refuse_outside_broker_group)."""
    from backoffice.tests.workers import BROKER_GROUP

    for item in items:
        if (
            item.get_closest_marker("worker")
            or item.get_closest_marker("image")
            or "real_broker" in item.fixturenames
        ):
            item.add_marker(pytest.mark.xdist_group(BROKER_GROUP))


def pytest_collection_finish(session):
    """Refuse to run the broker's tests side by side: pytest-xdist groups a test by the suffix it
    puts on its node id, which a pytest it does not know may ignore (pytest 9.2 does)."""
    if not session.config.getoption("loadgroup", default=False):
        return  # not an xdist process grouping its tests
    for item in session.items:
        if item.get_closest_marker("xdist_group") and "@" not in item.nodeid:
            raise pytest.UsageError(f"pytest-xdist could not group {item.nodeid}")


# Made before any watch on the cache's versions, so that every watch follows it.
SETTLING = CacheVersion("tests:settling:version")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Start each test in the shop's default language: a request in French leaves its language
    active in the thread that served it, the test's own for the test client."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def redis_server(tmp_path, settings, monkeypatch):
    """A Redis server of the test's own as the shop's cache (configured as CACHE_URL would be);
    stop() takes it away."""
    from backoffice.tests.redis_server import RedisServer, use_cache_url
    from core.cache import version_watch

    if not RedisServer.available():
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    use_cache_url(server.url, settings, monkeypatch)
    yield server
    if (watch := version_watch()) is not None:
        watch.close()  # or it would call on the stopped server for the rest of the run
    server.stop()


@pytest.fixture
def file_cache(tmp_path, settings):
    """The embedded default's cache, in a folder of the test's own; yields the folder."""
    from core.cache import FILE_CACHE, version_watch

    folder = tmp_path / "cache"
    settings.CACHES = {"default": {"BACKEND": FILE_CACHE, "LOCATION": str(folder)}}
    yield folder
    if (watch := version_watch()) is not None:
        watch.close()  # its queue is a file descriptor


@pytest.fixture
def file_cache_reads(monkeypatch):
    """Return the list of the keys the file cache reads (FileBasedCache.get), as it reads them."""
    from django.core.cache.backends.filebased import FileBasedCache

    keys, get = [], FileBasedCache.get

    def counting(self, key, *args, **kwargs):
        keys.append(key)
        return get(self, key, *args, **kwargs)

    monkeypatch.setattr(FileBasedCache, "get", counting)
    return keys


@pytest.fixture
def settle_version_watch(redis_server):
    """Return a function that waits until the process's watch on the cache's versions at
    redis_server is subscribed and has heard of every write made so far, and returns it."""
    import pickle

    from core.cache import version_watch
    from core.tests.waiting import until

    # SETTLING is given its value before any watch on this server can be subscribed, so that
    # this write has no message. Each settle() then writes it once and waits for that write's
    # message: none of an earlier write is left to come, so only that one can make the watch
    # forget it, and Redis's messages come in order, so those about every write before it have
    # come too.
    key, redis = cache.make_key(SETTLING.key), redis_server.client()
    redis.set(key, pickle.dumps("before"))

    def settle():
        watch = version_watch()
        SETTLING.current()  # the first read starts the watch
        until(lambda: watch.live, what="the watch to subscribe")
        until(lambda: SETTLING.current() and watch.get(SETTLING.key), what="a version kept")
        redis.set(key, pickle.dumps("settled"))
        until(lambda: watch.get(SETTLING.key) is None, what="the watch to settle")
        return watch

    return settle


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
def roles():
    """The staff roles' groups, as `manage.py setup_roles` sets them up."""
    from io import StringIO

    from django.core.management import call_command

    call_command("setup_roles", stdout=StringIO())


@pytest.fixture
def role_member(roles, django_user_model):
    """Return a function that makes a staff user in a role's group."""
    from django.contrib.auth.models import Group

    def make(role_name: str):
        user = django_user_model.objects.create_user(
            role_name.lower(), password="pw", is_staff=True
        )
        user.groups.add(Group.objects.get(name=role_name))
        return user

    return make


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


class SmtpServer:
    """A mail server in the test's process: what it received, and the recipients it refuses."""

    def __init__(self):
        self.messages = []  # SimpleNamespace(mail_from, rcpt_tos, message), in order
        self._refused = {}

    def refuse(self, address: str, code: int = 550) -> None:
        """Answer RCPT TO for the address with code (550 for good, 451 for now)."""
        text = "mailbox unavailable" if code >= 500 else "try again later"
        self._refused[address.lower()] = f"{code} {'5' if code >= 500 else '4'}.1.1 {text}"

    def to(self, address: str) -> list:
        return [received for received in self.messages if address in received.rcpt_tos]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refusal = self._refused.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import email
        from email import policy
        from types import SimpleNamespace

        self.messages.append(
            SimpleNamespace(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                message=email.message_from_bytes(envelope.original_content, policy=policy.default),
            )
        )
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    """Send the test's mail with Django's SMTP backend to a server in this process, which
    parses the addresses and headers as a real one would (the in-memory backend does not)."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = SmtpServer()
    server.port = port
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield server
    controller.stop()


@pytest.fixture
def cart(client):
    """A visitor's client with three bottles of a 9.99 wine in the cart."""
    from django.urls import reverse

    from shop.tests.factories import WineFactory

    wine = WineFactory(price="9.99", stock=10)
    client.post(reverse("shop:cart_add", args=[wine.pk]), {"quantity": 3})
    return client
