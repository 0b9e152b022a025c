"""/healthz: whether this web process can reach the database, the broker and the cache.

Load balancers and compose's healthchecks call it often, over plain HTTP, by whatever address
reaches the container. It is answered by a middleware placed before the others, so neither the
SSL redirect nor the host check turns those calls away; it reads nothing from the request, so an
arbitrary Host header can't make it say anything else.
"""

import logging
import threading

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import JsonResponse

from backoffice.celery import app as celery_app
from core.cache import CACHE_ERRORS, cache_failed, tolerant_cache

logger = logging.getLogger(__name__)

PATHS = ("/healthz", "/healthz/")
BROKER_CACHE_KEY = "backoffice:healthz-broker"
CACHE_PROBE_KEY = "backoffice:healthz-cache"
# Without these the shop can't take an order: the load balancer should send customers elsewhere.
# Without the cache it sells as before, only slower; /healthz says "degraded" and stays 200.
REQUIRED = ("database", "broker")


def database_error() -> str:
    """Return why the database can't be queried, or "" when it answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # a health check reports what went wrong instead of raising
        return str(error).strip() or type(error).__name__
    return ""


def broker_error(*, timeout: float = 2.0) -> str:
    """Return why the broker can't be reached, or "" when it answers.

    The answer is kept in the shared cache for HEALTHZ_BROKER_CACHE_SECONDS. Connecting happens in
    a thread given `timeout` seconds, so a broker that accepts the connection and then says
    nothing can't hold the load balancer's request.
    """
    cached = tolerant_cache.get(BROKER_CACHE_KEY)
    if cached is not None:
        return cached
    outcome: list[str] = []
    thread = threading.Thread(
        target=_connect, args=(timeout, outcome), name="healthz-broker", daemon=True
    )
    thread.start()
    thread.join(timeout + 0.5)
    error = outcome[0] if outcome else f"no answer within {timeout:g} s"
    tolerant_cache.set(BROKER_CACHE_KEY, error, settings.HEALTHZ_BROKER_CACHE_SECONDS)
    return error


def cache_error(*, timeout: float = 1.0) -> str:
    """Return why the shared cache can't be read, or "" when it answers.

    Asked every time, even while pages leave a cache that failed alone for a few seconds: this
    is how operators see it come back. The read happens in a thread given `timeout` seconds, as
    the broker's connection does.
    """
    outcome: list[str] = []
    # This thread's cache, with its connection pool: one made in the new thread would connect anew.
    backend = caches["default"]
    thread = threading.Thread(
        target=_read_cache, args=(backend, outcome), name="healthz-cache", daemon=True
    )
    thread.start()
    thread.join(timeout)
    return outcome[0] if outcome else f"no answer within {timeout:g} s"


def _read_cache(backend, outcome: list) -> None:
    try:
        backend.get(CACHE_PROBE_KEY)
    except CACHE_ERRORS as error:
        cache_failed(error)
        outcome.append(str(error).strip() or type(error).__name__)
    else:
        outcome.append("")


def _connect(timeout: float, outcome: list) -> None:
    try:
        with celery_app.connection_for_write(connect_timeout=timeout) as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
            # A connection that opened can still be refused a channel (a vhost without rights).
            broker.default_channel  # noqa: B018
        outcome.append("")
    except Exception as error:  # see database_error
        outcome.append(str(error).strip() or type(error).__name__)


def healthz(request) -> JsonResponse:
    """Answer 200 when the database and the broker answer, 503 naming what is down.

    A cache that is away makes the answer "degraded", still 200: pulling every web process from
    the load balancer because Redis restarted would stop a shop that still sells. Why a service
    is down goes to the log only: its error names internal hosts and ports.
    """
    # The cache first: found away, the broker check's cache read then costs nothing.
    cache = cache_error()
    checks = {"database": database_error(), "broker": broker_error(), "cache": cache}
    down = [name for name, error in checks.items() if error]
    failing = [name for name in down if name in REQUIRED]
    # The cache's outage is logged by core.cache, once a minute rather than once a call.
    for name in failing:
        logger.warning("Health check: the %s is down: %s", name, checks[name])
    body = {
        "status": "down" if failing else "degraded" if down else "ok",
        "checks": {name: "down" if error else "ok" for name, error in checks.items()},
    }
    if down:
        body["down"] = down
    response = JsonResponse(body, status=503 if failing else 200)
    response["Cache-Control"] = "no-store"
    return response


class HealthzMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path in PATHS and request.method in ("GET", "HEAD"):
            return healthz(request)
        return self.get_response(request)
