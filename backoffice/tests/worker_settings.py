"""Settings of the worker processes that integration tests start: the test run's own settings,
with mail written to files the test can count, optionally after a pause (a task caught midway).
"""

import os

from backoffice.test_settings import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
EMAIL_BACKEND = "backoffice.tests.worker_settings.SlowFileBackend"
EMAIL_FILE_PATH = os.environ["TEST_MAIL_DIR"]

from django.core.mail.backends.filebased import EmailBackend  # noqa: E402


class SlowFileBackend(EmailBackend):
    """Write each message to a file, after a pause of TEST_MAIL_PAUSE seconds if set.

    A marker file tells the test that a send has begun, so it can kill the worker midway.
    """

    def send_messages(self, email_messages):
        import time
        from pathlib import Path

        pause = float(os.environ.get("TEST_MAIL_PAUSE", "0"))
        if pause:
            Path(self.file_path, "sending.marker").touch()
            time.sleep(pause)
        return super().send_messages(email_messages)
