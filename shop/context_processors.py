from django.conf import settings

from shop.cart import Cart


def shop(request):
    """Give every page the shop's name, its legal notice and the visitor's cart (no query
    without a cart)."""
    return {
        "shop_name": settings.SHOP_NAME,
        "shop_legal_notice": settings.SHOP_LEGAL_NOTICE,
        "cart": Cart.for_request(request),
    }
