"""The private storage of every process `make drills` starts: the shop's, except that storing a
credit note takes a moment, so that a worker can be killed while it makes one."""

import os
import time
from pathlib import Path

from core.storage import DatabaseStorage


class SlowCreditNoteStorage(DatabaseStorage):
    """Store files in the database; a credit note after a pause of CREDIT_NOTE_PAUSE seconds.

    A marker file (DRILLS_CREDIT_NOTE_MARKER) names the credit note being stored, so that the
    drills can kill the worker midway.
    """

    def _save(self, name, content):
        pause = float(os.environ.get("CREDIT_NOTE_PAUSE", "0"))
        marker = os.environ.get("DRILLS_CREDIT_NOTE_MARKER", "")
        if pause and marker and name.startswith("credit-notes/"):
            Path(marker).write_text(name)
            time.sleep(pause)
        return super()._save(name, content)
