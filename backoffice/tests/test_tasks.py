from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from backoffice.tasks import noop, session_clear_expired

pytestmark = pytest.mark.django_db


def test_expired_sessions_are_deleted_and_live_ones_kept():
    now = timezone.now()
    Session.objects.create(session_key="gone", session_data="", expire_date=now - timedelta(1))
    Session.objects.create(session_key="live", session_data="", expire_date=now + timedelta(1))

    session_clear_expired.delay()
    session_clear_expired.delay()  # nothing left to do the second time

    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]


def test_the_noop_task_runs_and_returns_nothing():
    assert noop.delay().get() is None
