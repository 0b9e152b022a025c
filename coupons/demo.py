"""Demo coupons for `make run`, so the cart's coupon form has codes to take."""

from django.conf import settings

from coupons.models import Coupon

DEMO_COUPONS = {"WELCOME10": (10, None), "VIP25": (25, 50)}  # code: (percent off, max uses)


def seed_demo_coupons() -> list[Coupon]:
    """Create the demo coupons that are missing; leave those that exist as they are.

    Only with DEBUG on: the codes are published, so in production they would be free discounts.
    """
    if not settings.DEBUG:
        return []
    return [
        Coupon.objects.get_or_create(
            code=code, defaults={"percent_off": percent, "max_uses": max_uses}
        )[0]
        for code, (percent, max_uses) in DEMO_COUPONS.items()
    ]
