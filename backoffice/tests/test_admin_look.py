"""How the back office looks: the shop's colour, a dashboard that does not repeat the sidebar."""

import colorsys
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.urls import reverse

from shop.tests.factories import WineFactory

pytestmark = pytest.mark.django_db

INDEX = reverse("admin:index")


def hue(colour: str) -> float:
    red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hsv(red, green, blue)[0] * 360


def test_the_primary_colour_is_the_shops_burgundy_not_the_red_of_errors(admin_client):
    css = (Path(settings.BASE_DIR) / "static/shop/shop.css").read_text()
    wine = re.search(r"--wine:\s*(#[0-9a-fA-F]{6})", css).group(1)
    primary = settings.UNFOLD["COLORS"]["primary"]
    assert primary["600"].lower() == wine.lower()
    # unfold draws errors and Delete in Tailwind's red (#dc2626, hue 0°): every shade of the
    # primary scale is a burgundy well apart from it.
    assert all(330 <= hue(colour) <= 350 for colour in primary.values()), primary
    red, green, blue = (int(wine[i : i + 2], 16) for i in (1, 3, 5))
    page = admin_client.get(INDEX).content.decode()
    assert f"--color-primary-600: rgb({red}, {green}, {blue});" in page


def test_the_dashboard_has_no_list_of_apps_but_keeps_the_recent_actions(admin_client):
    wine = WineFactory(name="Chablis Premier Cru")
    LogEntry.objects.log_actions(
        user_id=admin_client.user.pk, queryset=[wine], action_flag=CHANGE, change_message="Price"
    )
    page = admin_client.get(INDEX).content.decode()
    assert "Models in the" not in page  # unfold's app list, with every app and model
    assert 'id="recent-actions-module"' in page
    assert reverse("admin:shop_wine_change", args=[wine.pk]) in page
    # The sidebar still leads everywhere.
    assert reverse("admin:orders_order_changelist") in page
