"""Settings for the test suite: the real settings, with what a test run must not share."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-suite-only-key")

from backoffice.settings import *  # noqa: F403
from backoffice.settings import DATABASES, cache_config

# A test cache of its own, unless a shared one (Redis in CI) is named for the run.
CACHES = {"default": cache_config("TEST_CACHE_URL", default="locmemcache://")}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Close each request's connection, so that live-server threads leave none open at teardown.
DATABASES["default"]["CONN_MAX_AGE"] = 0
