import pytest
from django.db import connection


@pytest.fixture
def production_services(settings):
    """Skip unless the run has what production runs on: PostgreSQL and RabbitMQ."""
    if connection.vendor != "postgresql":
        pytest.skip("the production stack runs on PostgreSQL (DATABASE_URL=postgres://...)")
    if not settings.CELERY_BROKER_URL.startswith("amqp://"):
        pytest.skip("the production stack runs on RabbitMQ (CELERY_BROKER_URL=amqp://...)")
