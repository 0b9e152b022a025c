"""Whether Celery workers are answering, as the admin index shows it."""

import threading
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from backoffice.celery import app as celery_app
from core.cache import tolerant_cache as cache

CACHE_KEY = "backoffice:worker-health"
CACHE_SECONDS = 15

# One check at a time per process. Should the broker vanish between connecting and publishing,
# kombu retries that publish until it is back: the waiting thread must not be joined by another
# at every page load.
_checking = threading.Lock()


@dataclass(frozen=True)
class WorkerHealth:
    state: str  # "ok": a worker answered; "down": the broker did, no worker; "unknown": no broker
    workers: tuple[str, ...] = ()
    active: int = 0
    reserved: int = 0
    checked_at: datetime = field(default_factory=timezone.now)
    error: str = ""

    @property
    def known(self) -> bool:
        return self.state != "unknown"


def worker_health(*, timeout: float = 1.0, fresh: bool = False) -> WorkerHealth:
    """Return the workers' health, checked at most every CACHE_SECONDS unless `fresh`.

    The check never outlasts its deadline: connecting is bounded by the broker connection
    timeout and one retry, each wait for replies by `timeout` (plus a worker's polling interval
    on a polling transport), and the whole by a thread joined in time.
    """
    if not fresh and (health := cache.get(CACHE_KEY)) is not None:
        return health
    connect_timeout = float(celery_app.conf.broker_connection_timeout or 4)
    # A worker on a polling transport (the filesystem one) sees a request only at its next poll.
    reply_timeout = timeout + _polling_interval()
    # Two connection attempts, then ping, active and reserved, with a second to spare.
    deadline = 2 * connect_timeout + 3 * reply_timeout + 1
    if not _checking.acquire(timeout=deadline):
        health = WorkerHealth("unknown", error="An earlier check is still waiting for the broker.")
    elif not fresh and (health := cache.get(CACHE_KEY)) is not None:
        _checking.release()  # another request checked while this one waited
        return health
    else:
        health = _check_within(deadline, timeout=reply_timeout, connect_timeout=connect_timeout)
    cache.set(CACHE_KEY, health, CACHE_SECONDS)
    return health


def _polling_interval() -> float:
    """Return the seconds between two looks at the broker of a worker, if its transport polls."""
    options = celery_app.conf.broker_transport_options or {}
    transport = celery_app.connection_for_read().get_transport_cls()
    return float(options.get("polling_interval", getattr(transport, "polling_interval", 0)) or 0)


def _check_within(deadline: float, *, timeout: float, connect_timeout: float) -> WorkerHealth:
    outcome: list[WorkerHealth] = []
    thread = threading.Thread(
        target=_check_in_thread,
        kwargs={"timeout": timeout, "connect_timeout": connect_timeout, "outcome": outcome},
        name="worker-health",
        daemon=True,
    )
    thread.start()  # the thread releases _checking when it is done
    thread.join(deadline)
    if not outcome:
        return WorkerHealth("unknown", error=f"No answer from the broker within {deadline:g} s.")
    return outcome[0]


def _check_in_thread(*, timeout: float, connect_timeout: float, outcome: list) -> None:
    try:
        outcome.append(_check(timeout=timeout, connect_timeout=connect_timeout))
    except Exception as error:  # a health check reports what went wrong instead of raising
        outcome.append(WorkerHealth("unknown", error=str(error) or type(error).__name__))
    finally:
        _checking.release()


def _check(*, timeout: float, connect_timeout: float) -> WorkerHealth:
    with celery_app.connection_for_read(
        connect_timeout=connect_timeout, transport_options={"polling_interval": 0.1}
    ) as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=2 * connect_timeout)
        replies = celery_app.control.inspect(timeout=timeout, connection=connection).ping() or {}
        workers = tuple(sorted(replies))
        if not workers:
            return WorkerHealth("down")
        # Knowing who is up, stop listening as soon as each of them has answered.
        named = celery_app.control.inspect(
            timeout=timeout, connection=connection, destination=list(workers)
        )
        active = named.active() or {}
        reserved = named.reserved() or {}
    return WorkerHealth(
        "ok",
        workers=workers,
        active=sum(len(tasks) for tasks in active.values()),
        reserved=sum(len(tasks) for tasks in reserved.values()),
    )
