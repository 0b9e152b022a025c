"""/healthz: whether this web process can reach the database and the broker.

Load balancers and compose's healthchecks call it often, over plain HTTP, by whatever address
reaches the container. It is answered by a middleware placed before the others, so neither the
SSL redirect nor the host check turns those calls away; it reads nothing from the request, so an
arbitrary Host header can't make it say anything else.
"""

import logging
import threading

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

from backoffice.celery import app as celery_app

logger = logging.getLogger(__name__)

PATHS = ("/healthz", "/healthz/")
BROKER_CACHE_KEY = "backoffice:healthz-broker"


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
    try:
        cached = cache.get(BROKER_CACHE_KEY)
    except Exception:  # a cache that is down must not take the health check down with it
        logger.warning("Health check: the cache is unreachable.", exc_info=True)
        cached = None
    if cached is not None:
        return cached
    outcome: list[str] = []
    thread = threading.Thread(
        target=_connect, args=(timeout, outcome), name="healthz-broker", daemon=True
    )
    thread.start()
    thread.join(timeout + 0.5)
    error = outcome[0] if outcome else f"no answer within {timeout:g} s"
    try:
        cache.set(BROKER_CACHE_KEY, error, settings.HEALTHZ_BROKER_CACHE_SECONDS)
    except Exception:  # see above
        logger.warning("Health check: the cache is unreachable.", exc_info=True)
    return error


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
    """Answer 200 when the database and the broker both answer, 503 naming what is down.

    Why a service is down goes to the log only: its error names internal hosts and ports.
    """
    checks = {"database": database_error(), "broker": broker_error()}
    down = [name for name, error in checks.items() if error]
    for name in down:
        logger.warning("Health check: the %s is down: %s", name, checks[name])
    body = {
        "status": "down" if down else "ok",
        "checks": {name: "down" if error else "ok" for name, error in checks.items()},
    }
    if down:
        body["down"] = down
    response = JsonResponse(body, status=503 if down else 200)
    response["Cache-Control"] = "no-store"
    return response


class HealthzMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path in PATHS and request.method in ("GET", "HEAD"):
            return healthz(request)
        return self.get_response(request)
