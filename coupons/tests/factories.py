from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from coupons.models import Coupon


class CouponFactory(DjangoModelFactory):
    class Meta:
        model = Coupon

    code = factory.Sequence(lambda n: f"WINE{n:04d}")
    percent_off = 10
    valid_from = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    valid_to = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
    max_uses = None
