"""Flower's configuration file (the Procfile's `--conf`), run by Flower as Python at start-up.

Flower leaves /metrics open whatever --basic-auth says (its documentation lists it as exempt), and
the task names, workers and counts it shows are the shop's own business: the handler below asks
for the same credentials as every other page. /healthcheck stays open; it says only "OK".
"""

from flower import urls
from flower.views.monitor import Metrics
from tornado import web


class AuthenticatedMetrics(Metrics):
    @web.authenticated
    async def get(self):
        await super().get()


# Flower builds its application from this list after reading the configuration file.
urls.handlers[:] = [
    (handler[0], AuthenticatedMetrics)
    if isinstance(handler, tuple) and handler[1] is Metrics
    else handler
    for handler in urls.handlers
]
