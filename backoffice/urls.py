from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    # Invoice and report downloads, checked against the staff member's permissions.
    path("admin/files/", include("reports.urls")),
    path("admin/", admin.site.urls),
    path("orders/", include("orders.urls")),
    path("coupons/", include("coupons.urls")),
    path("payment/", include("payments.urls")),
    path("", include("shop.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
