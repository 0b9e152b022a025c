from shop.cart import Cart


def cart(request):
    """Give every page the visitor's cart for the header (no query for a visitor without one)."""
    return {"cart": Cart.for_request(request)}
