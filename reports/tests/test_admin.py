from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import Order
from reports.models import CreditNote, Invoice, Report
from reports.services import credit_note_ensure, invoice_ensure
from reports.tests.factories import paid_order, succeeded_refund

pytestmark = pytest.mark.django_db

REPORT_ADD = reverse("admin:reports_report_add")
REPORTS = reverse("admin:reports_report_changelist")


def test_a_merchant_requests_a_report_for_any_period(
    admin_client, django_capture_on_commit_callbacks
):
    paid_order(paid_at=timezone.make_aware(timezone.datetime(2026, 2, 11, 12)))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(REPORT_ADD, {"kind": "month", "start": "2026-02-17"})
    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.kind, report.start, report.requested_by) == (
        "month",
        date(2026, 2, 1),
        admin_client.user,
    )
    assert report.status == Report.Status.DONE

    listing = admin_client.get(REPORTS).content.decode()
    pdf_url = reverse("reports:report_download", args=[report.pk, "pdf"])
    csv_url = reverse("reports:report_download", args=[report.pk, "csv"])
    assert pdf_url in listing and csv_url in listing
    pdf = admin_client.get(pdf_url)
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    csv = admin_client.get(csv_url)
    assert 'filename="sales-month-2026-02-01.csv"' in csv["Content-Disposition"]
    assert (
        admin_client.get(reverse("admin:reports_report_change", args=[report.pk])).status_code
        == 200
    )


def test_a_report_for_the_future_is_refused_with_a_message(admin_client):
    response = admin_client.post(REPORT_ADD, {"kind": "day", "start": "2999-01-01"})
    assert response.status_code == 200
    assert "Choose a day between 2000 and today" in response.content.decode()
    assert not Report.objects.exists()
    response = admin_client.post(REPORT_ADD, {"kind": "decade", "start": "not a day"})
    assert response.status_code == 200
    assert not Report.objects.exists()


def test_staff_need_the_report_permission(client, django_user_model):
    report = Report.objects.create(kind="day", start=date(2026, 1, 5))
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(clerk)
    url = reverse("reports:report_download", args=[report.pk, "pdf"])
    assert client.get(url).status_code == 403
    assert client.post(REPORT_ADD, {"kind": "day", "start": "2026-01-05"}).status_code == 403
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_report", "view_report"])
    )
    assert client.post(REPORT_ADD, {"kind": "day", "start": "2026-01-05"}).status_code == 302
    assert Report.objects.filter(requested_by=clerk).count() == 1


def test_invoice_admin_lists_and_regenerates(admin_client):
    invoice = invoice_ensure(order_id=paid_order().pk)
    old = invoice.file.name
    listing = reverse("admin:reports_invoice_changelist")
    assert invoice.number in admin_client.get(listing).content.decode()
    admin_client.post(listing, {"action": "regenerate_selected", "_selected_action": [invoice.pk]})
    invoice.refresh_from_db()
    assert invoice.file.name != old
    assert Invoice.objects.count() == 1


def test_an_invoice_page_is_read_only_and_lists_what_the_invoice_says(admin_client):
    order = paid_order(first_name="Zoë", last_name="Müller")
    invoice = invoice_ensure(order_id=order.pk)
    Order.objects.filter(pk=order.pk).update(first_name="Chloé")
    change = reverse("admin:reports_invoice_change", args=[invoice.pk])

    page = admin_client.get(change).content.decode()
    assert "Zoë Müller" in page  # the snapshot, shown
    assert 'name="_save"' not in page
    assert admin_client.post(change, {"number": "INV-0"}).status_code == 403
    listing = admin_client.get(reverse("admin:reports_invoice_changelist")).content.decode()
    assert "Zoë Müller" in listing and "Chloé" not in listing
    assert Invoice.objects.get().snapshot == invoice.snapshot


def test_a_viewer_cannot_download_without_the_invoice_permission(django_user_model):
    invoice = invoice_ensure(order_id=paid_order().pk)
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client = Client()
    client.force_login(viewer)
    change = reverse("admin:orders_order_change", args=[invoice.order_id])
    button = reverse("admin:orders_order_download_invoice", args=[invoice.order_id])
    page = client.get(change)
    assert page.status_code == 200
    assert button not in page.content.decode()
    assert client.get(button).status_code == 403
    assert client.get(reverse("reports:invoice_download", args=[invoice.pk])).status_code == 403


def test_credit_notes_are_listed_read_only_with_their_download(admin_client):
    refund = succeeded_refund(paid_order(first_name="Zoë"), Decimal("7.50"))
    credit_note = credit_note_ensure(refund_id=refund.pk)
    listing = admin_client.get(reverse("admin:reports_creditnote_changelist")).content.decode()
    assert credit_note.number in listing
    assert credit_note.order.number in listing
    assert f"#{refund.pk}" in listing and "7.50" in listing
    assert reverse("reports:credit_note_download", args=[credit_note.pk]) in listing
    assert reverse("admin:reports_creditnote_add") not in listing

    change = reverse("admin:reports_creditnote_change", args=[credit_note.pk])
    page = admin_client.get(change).content.decode()
    assert "Zoë" in page and credit_note.invoice.number in page
    assert 'name="_save"' not in page
    assert admin_client.post(change, {"number": "CN-0"}).status_code == 403
    delete = reverse("admin:reports_creditnote_delete", args=[credit_note.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert CreditNote.objects.get().number == credit_note.number
