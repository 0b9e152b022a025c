from django.contrib import admin
from django.urls import include, path

from backoffice.media import media_file

urlpatterns = [
    # Invoice and report downloads, checked against the staff member's permissions.
    path("admin/files/", include("reports.urls")),
    path("admin/", admin.site.urls),
    # Wine photos, from the database every web process shares, with DEBUG on or off.
    path("media/<path:name>", media_file, name="media"),
    # The language form posts here (django.views.i18n.set_language).
    path("i18n/", include("django.conf.urls.i18n")),
    path("orders/", include("orders.urls")),
    path("payment/", include("payments.urls")),
    # The benchmark's baselines, answering 404 unless BENCH_BASELINES is on.
    path("bench/", include(("backoffice.baselines", "baselines"))),
    path("", include("shop.urls")),
]
