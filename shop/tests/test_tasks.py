import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.utils import timezone

from backoffice.tasks import session_clear_expired
from shop.tasks import wine_low_stock_alert
from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db


def test_low_stock_alert_lists_wines_at_or_below_threshold(settings):
    settings.STAFF_ALERT_EMAILS = ["cellar@example.com"]
    WineFactory(name="Tignanello", stock=2, low_stock_threshold=6)
    WineFactory(name="Sassicaia", stock=6, low_stock_threshold=6)
    WineFactory(name="Plenty", stock=50, low_stock_threshold=6)
    WineFactory(name="Withdrawn", stock=0, available=False)
    assert wine_low_stock_alert.delay().get() == 2
    (message,) = mail.outbox
    assert message.to == ["cellar@example.com"]
    assert "Tignanello" in message.body and "Sassicaia" in message.body
    assert "Plenty" not in message.body and "Withdrawn" not in message.body


def test_low_stock_alert_goes_to_staff_when_no_address_is_set(settings, django_user_model):
    settings.STAFF_ALERT_EMAILS = []
    django_user_model.objects.create_user("m", "merchant@example.com", "pw", is_staff=True)
    django_user_model.objects.create_user("c", "customer@example.com", "pw")
    WineFactory(stock=1)
    wine_low_stock_alert.delay()
    assert mail.outbox[0].to == ["merchant@example.com"]


def test_clear_sessions_deletes_only_expired_ones():
    now = timezone.now()
    Session.objects.create(
        session_key="old", session_data="", expire_date=now - timezone.timedelta(days=1)
    )
    Session.objects.create(
        session_key="new", session_data="", expire_date=now + timezone.timedelta(days=1)
    )
    session_clear_expired.delay()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["new"]
