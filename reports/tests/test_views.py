"""Downloads of invoices and reports: staff with the permission only, finished files only."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from reports.models import Report
from reports.services import credit_note_ensure, invoice_ensure
from reports.tests.factories import paid_order, succeeded_refund
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


def test_staff_with_permission_download_the_credit_note(admin_client, django_user_model):
    from django.contrib.auth.models import Permission

    credit_note = credit_note_ensure(refund_id=succeeded_refund(paid_order()).pk)
    url = reverse("reports:credit_note_download", args=[credit_note.pk])

    response = admin_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="credit-note-{credit_note.number}.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == read_invoice(credit_note)

    client = Client()
    assert client.get(url).status_code == 302  # to the admin login
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_invoice"))
    client.force_login(clerk)
    assert client.get(url).status_code == 403  # invoices, not credit notes
    clerk.user_permissions.add(Permission.objects.get(codename="view_creditnote"))
    client.force_login(django_user_model.objects.get(pk=clerk.pk))  # permissions read afresh
    assert client.get(url).status_code == 200
    missing = reverse("reports:credit_note_download", args=[999999])
    assert admin_client.get(missing).status_code == 404
