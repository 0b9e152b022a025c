from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("invoices/<int:pk>/download/", views.invoice_download, name="invoice_download"),
    path(
        "credit-notes/<int:pk>/download/", views.credit_note_download, name="credit_note_download"
    ),
    path("reports/<int:pk>/<str:extension>/", views.report_download, name="report_download"),
]
