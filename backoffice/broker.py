"""kombu's filesystem transport, the embedded default broker: its housekeeping, and a worker that
stops promptly on it.

The transport keeps the fanout bindings (events, remote control) of consumers that have stopped,
and producers go on writing into those dead queues: thousands of files within minutes. Before the
processes start, no consumer is alive, so every such binding and message is stale.
"""

from pathlib import Path
from queue import Empty
from time import monotonic, sleep

from celery.worker import state as worker_state
from django.conf import settings
from kombu.transport import filesystem

FANOUT_EXCHANGES = ("celeryev", "celery.pidbox", "reply.celery.pidbox")


def _is_fanout_queue(queue: str) -> bool:
    return queue.startswith("celeryev.") or queue.endswith("celery.pidbox")


def clear_stale_fanout() -> tuple[int, int]:
    """Remove fanout bindings and their queued messages; return (bindings, messages) removed."""
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        return 0, 0
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    control = Path(options["control_folder"])
    bindings = 0
    for exchange in FANOUT_EXCHANGES:
        path = control / f"{exchange}.exchange"
        if path.exists():
            path.unlink()
            bindings += 1
    messages = 0
    folder = Path(options["data_folder_out"])
    # Message files are named "<ms>_<uuid>.<queue>.msg".
    for path in folder.glob("*.msg") if folder.exists() else ():
        queue = path.name.split(".", 1)[1].removesuffix(".msg")
        if _is_fanout_queue(queue):
            path.unlink(missing_ok=True)
            messages += 1
    return bindings, messages


def ensure_folders() -> None:
    """Create the filesystem transport's folders (the transport expects them to exist)."""
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        for key in ("data_folder_in", "data_folder_out", "control_folder"):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


class FilesystemTransport(filesystem.Transport):
    """kombu's filesystem transport, for a worker that stops as soon as it is asked to.

    The worker's loop waits up to 2 s for a message before it looks whether it should stop, and
    waits once more after deciding to: on a broker that is polled, that is up to 4 s of nothing
    after SIGTERM. Here the wait ends at the next poll once the worker is stopping.
    """

    def drain_events(self, connection, timeout=None):
        started = monotonic()
        polling_interval = self.polling_interval
        if timeout and polling_interval and polling_interval > timeout:
            polling_interval = timeout
        while True:
            try:
                self.cycle.get(self._deliver, timeout=timeout)
            except Empty:
                if (
                    worker_state.should_stop is not None
                    or worker_state.should_terminate is not None
                ):
                    raise TimeoutError from None
                if timeout is not None and monotonic() - started >= timeout:
                    raise TimeoutError from None
                if polling_interval is not None:
                    sleep(polling_interval)
            else:
                return
