"""Settings of the worker processes that integration tests start: the test run's own settings,
with mail written to files the test can count, optionally after a pause (a task caught midway),
or sent to the test's SMTP server when it names its port.
"""

import os

from backoffice.test_settings import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
EMAIL_BACKEND = "backoffice.tests.slow_mail.SlowFileBackend"
EMAIL_FILE_PATH = os.environ["TEST_MAIL_DIR"]

if os.environ.get("TEST_SMTP_PORT"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST, EMAIL_PORT, EMAIL_TIMEOUT = "127.0.0.1", int(os.environ["TEST_SMTP_PORT"]), 5
    EMAIL_HOST_USER = EMAIL_HOST_PASSWORD = ""
    EMAIL_USE_TLS = EMAIL_USE_SSL = False
