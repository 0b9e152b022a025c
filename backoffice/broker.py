"""Housekeeping for kombu's filesystem transport, the embedded default broker.

The transport keeps the fanout bindings (events, remote control) of consumers that have stopped,
and producers go on writing into those dead queues: thousands of files within minutes. Before the
processes start, no consumer is alive, so every such binding and message is stale.
"""

from pathlib import Path

from django.conf import settings

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
