from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("checkout/", views.checkout, name="checkout"),
    path("placed/<str:number>/", views.order_placed, name="order_placed"),
    path("order/<str:key>/", views.order_detail, name="order_detail"),
    path("order/<str:key>/cancel/", views.order_customer_cancel, name="order_cancel"),
    path("order/<str:key>/change/", views.order_change, name="order_change"),
    path("link/", views.order_link_ask, name="order_link_ask"),
]
