"""A file mail backend that can take its time, like a slow SMTP server: a worker process can be
caught in the middle of a send."""

import os
import time
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend


class SlowFileBackend(EmailBackend):
    """Write each message to a file, after a pause of TEST_MAIL_PAUSE seconds if set.

    A marker file tells the test that a send has begun, and of what, so it can kill the worker
    midway.
    """

    def send_messages(self, email_messages):
        pause = float(os.environ.get("TEST_MAIL_PAUSE", "0"))
        if pause:
            subjects = "\n".join(message.subject for message in email_messages)
            Path(self.file_path, "sending.marker").write_text(subjects)
            time.sleep(pause)
        return super().send_messages(email_messages)
