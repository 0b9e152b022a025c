from django.urls import path

from shop import views

app_name = "shop"

urlpatterns = [
    path("", views.wine_list, name="wine_list"),
    path("ping/", views.ping, name="ping"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("cart/", views.cart_detail, name="cart_detail"),
    path("cart/add/<int:wine_id>/", views.cart_add, name="cart_add"),
    path("cart/update/<int:wine_id>/", views.cart_update, name="cart_update"),
    path("cart/remove/<int:wine_id>/", views.cart_remove, name="cart_remove"),
    path("cart/clear/", views.cart_clear, name="cart_clear"),
    path("cart/undo/", views.cart_undo, name="cart_undo"),
    path("cart/delivery/", views.cart_delivery, name="cart_delivery"),
    # The paths the cart's coupon form has always posted to: a cart page kept by a browser too.
    path("coupons/apply/", views.coupon_apply, name="coupon_apply"),
    path("coupons/remove/", views.coupon_remove, name="coupon_remove"),
    path("wine/<slug:slug>/", views.wine_detail, name="wine_detail"),
]
