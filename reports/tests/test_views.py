"""Downloads of invoices and reports: staff with the permission only, finished files only."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from reports.models import Report
from reports.services import invoice_ensure
from reports.tests.factories import paid_order
from reports.tests.pdf import read_invoice

pytestmark = pytest.mark.django_db


def test_staff_with_permission_download_the_invoice(admin_client, django_user_model):
    invoice = invoice_ensure(order_id=paid_order().pk)
    url = reverse("reports:invoice_download", args=[invoice.pk])

    response = admin_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="invoice-{invoice.number}.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == read_invoice(invoice)

    client = Client()
    assert client.get(url).status_code == 302  # to the admin login
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(clerk)
    assert client.get(url).status_code == 403
    assert admin_client.get(reverse("reports:invoice_download", args=[999999])).status_code == 404


def test_unfinished_reports_have_nothing_to_download(admin_client):
    report = Report.objects.create(kind="day", start=date(2026, 1, 5))
    for extension in ("pdf", "csv", "exe"):
        url = reverse("reports:report_download", args=[report.pk, extension])
        assert admin_client.get(url).status_code == 404
