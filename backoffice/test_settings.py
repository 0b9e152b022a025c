"""Settings for the test suite: the real settings, with what a test run must not share."""

import os
from urllib.parse import urlsplit

os.environ.setdefault("DJANGO_SECRET_KEY", "test-suite-only-key")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
# Signs the tests' own payloads (below); production refuses to start without one.
os.environ.setdefault("STRIPE_WEBHOOK_SECRET", "whsec_test_suite")

from backoffice.settings import *  # noqa: F403
from backoffice.settings import DATABASES, cache_config

# make test runs the suite in several processes (pytest-xdist): gw0, gw1, ... Each keeps its own
# test database (pytest-django suffixes its name), filesystem broker and Redis database, and the
# Celery workers a test starts inherit the process's name, so they find the same. RabbitMQ's
# queues are shared: the tests that use them run in one process (conftest.py).
TEST_PROCESS = os.environ.get("PYTEST_XDIST_WORKER", "")

# A test cache of its own, unless a shared one (Redis in CI) is named for the run.
CACHES = {"default": cache_config("TEST_CACHE_URL", default="locmemcache://")}
if TEST_PROCESS and CACHES["default"]["BACKEND"] == "core.cache.RedisCache":
    # The database after the run's for gw0, and so on, shared with the production stacks a test
    # starts (backoffice.tests.production.shared_cache_url); the run's own is left to the image's
    # containers. A prefix too, since Redis tells each client of changes to the keys it read by
    # name, whatever their database.
    _url = urlsplit(CACHES["default"]["LOCATION"])
    _db = int(_url.path.strip("/") or 0) + 1 + int(TEST_PROCESS.removeprefix("gw"))
    CACHES["default"]["LOCATION"] = _url._replace(path=f"/{_db}").geturl()
    CACHES["default"]["KEY_PREFIX"] = TEST_PROCESS
# The test client and the live server speak plain HTTP; tests of the redirect turn it back on.
SECURE_SSL_REDIRECT = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "private": {"BACKEND": "core.storage.DatabaseStorage"},
    "media": {"BACKEND": "core.storage.PublicDatabaseStorage"},
}
# Close each request's connection, so that live-server threads leave none open at teardown.
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Tasks queued on commit run in the test process; integration tests start real workers.
CELERY_TASK_ALWAYS_EAGER = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The suite's own filesystem broker, and a SQLite test database in a file, so that the worker
# processes of the integration tests share both with the test process.
BROKER_DIR = VAR_DIR / "-".join(filter(None, ("test-broker", TEST_PROCESS)))  # noqa: F405
if CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
        "data_folder_in": str(BROKER_DIR / "messages"),
        "data_folder_out": str(BROKER_DIR / "messages"),
        "control_folder": str(BROKER_DIR / "control"),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}  # noqa: F405
STRIPE_WEBHOOK_SECRET = "whsec_test_suite"  # noqa: S105 - signs the tests' own payloads
STRIPE_SANDBOX_ALLOWED = True
# Tests place many orders from one client (the test client's session and address): the limits
# are high here, and the tests of the limits set their own.
ORDER_PLACEMENTS_PER_SESSION = ORDER_PLACEMENTS_PER_ADDRESS = 10_000
ORDER_PLACEMENTS_GLOBAL = 100_000
ORDER_OPEN_PER_SESSION = ORDER_OPEN_PER_ADDRESS = ORDER_OPEN_PER_EMAIL = 10_000
