from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("checkout/", views.checkout, name="checkout"),
    path("placed/<str:number>/", views.order_placed, name="order_placed"),
]
