"""The Celery app (https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html)."""

import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
# filesystem:// URLs get kombu's filesystem transport with a worker that stops promptly on it
# (backoffice/broker.py); any other URL keeps its own transport.
TRANSPORT_ALIASES["filesystem"] = "backoffice.broker:FilesystemTransport"

app = Celery("backoffice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
