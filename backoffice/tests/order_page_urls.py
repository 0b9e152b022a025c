"""The shop's URLs, with a stand-in for the customer's order page while it is not routed yet.

Emails carry the order's link (orders/links.py reverses `orders:order_detail`); once
orders/urls.py routes that name itself, this module adds nothing.
"""

from django.http import HttpResponse
from django.urls import include, path

from backoffice.urls import urlpatterns as shop_urlpatterns
from orders import urls as orders_urls


def _order_page(request, token):
    return HttpResponse(token, content_type="text/plain")


urlpatterns = shop_urlpatterns
if not any(getattr(route, "name", None) == "order_detail" for route in orders_urls.urlpatterns):
    orders_routes = [
        *orders_urls.urlpatterns,
        path("order/<str:token>/", _order_page, name="order_detail"),
    ]
    # First, so that the "orders" namespace resolves to these routes.
    urlpatterns = [path("orders/", include((orders_routes, "orders"))), *shop_urlpatterns]
