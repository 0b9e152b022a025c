"""Settings of the worker processes that integration tests start: the test run's own settings,
with mail written to files the test can count, optionally after a pause (a task caught midway).
"""

import os

from backoffice.test_settings import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
EMAIL_BACKEND = "backoffice.tests.slow_mail.SlowFileBackend"
EMAIL_FILE_PATH = os.environ["TEST_MAIL_DIR"]
