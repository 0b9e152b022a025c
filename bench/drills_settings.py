"""Settings of every process `make drills` starts: production's, with the drills' own mail
backend (a send takes a moment, as on a real SMTP server, so a worker can be killed in the
middle of one), credit notes as slow to store, the drills' Stripe sandbox and, when the drills
share RabbitMQ's default vhost, queues of their own."""

import os

from backoffice.settings import *  # noqa: F403
from backoffice.settings import CELERY_TASK_ROUTES, STORAGES

EMAIL_BACKEND = "backoffice.tests.slow_mail.SlowFileBackend"
# Credit notes take a moment to store: a worker can be killed while it makes one.
STORAGES = {**STORAGES, "private": {"BACKEND": "bench.drills_storage.SlowCreditNoteStorage"}}
# The drills run with DEBUG off, as production does, and pay and refund at a sandbox of their
# own (bench/drills.py starts it); nothing else may turn it on.
STRIPE_SANDBOX_ALLOWED = os.environ.get("DRILLS_STRIPE_SANDBOX") == "1"

# Set by bench/drills.py only when it could not get a vhost of its own.
_prefix = os.environ.get("DRILLS_QUEUE_PREFIX", "")
if _prefix:
    CELERY_TASK_DEFAULT_QUEUE = f"{_prefix}default"
    CELERY_TASK_ROUTES = {
        task: {**route, "queue": f"{_prefix}{route['queue']}"}
        for task, route in CELERY_TASK_ROUTES.items()
    }
