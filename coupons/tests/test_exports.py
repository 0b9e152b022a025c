"""A coupon batch's codes as a spreadsheet."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from coupons.services import coupon_batch_create

pytestmark = pytest.mark.django_db


def test_batch_codes_csv_opens_in_excel_with_local_dates(admin_client, settings):
    settings.TIME_ZONE = "Europe/Paris"
    batch = coupon_batch_create(
        name="Été",
        count=2,
        percent_off=10,
        prefix="ETE",
        valid_from=datetime(2026, 5, 31, 22, 0, tzinfo=UTC),
        valid_to=datetime(2026, 8, 31, 21, 59, 59, tzinfo=UTC),
    )

    response = admin_client.get(reverse("admin:coupons_couponbatch_export_codes", args=[batch.pk]))

    assert response.content.startswith(b"\xef\xbb\xbf")
    header, *rows = csv.reader(io.StringIO(response.content.decode("utf-8-sig")))
    row = dict(zip(header, rows[0], strict=True))
    assert row["valid_from"] == "2026-06-01 00:00:00"
    assert row["valid_to"] == "2026-08-31 23:59:59"
