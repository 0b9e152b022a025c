from django.urls import path

from payments import views, webhooks

app_name = "payments"

urlpatterns = [
    path("process/<str:key>/", views.payment_process, name="process"),
    path("completed/<str:key>/", views.payment_completed, name="completed"),
    path("canceled/<str:key>/", views.payment_canceled, name="canceled"),
    path("webhook/", webhooks.stripe_webhook, name="webhook"),
]
