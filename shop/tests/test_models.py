import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from shop.models import Region, Wine
from shop.tests.factories import CountryFactory, RegionFactory, WineFactory

pytestmark = pytest.mark.django_db


def test_vintage_in_the_future_is_rejected():
    wine = WineFactory.build(region=RegionFactory(), vintage=timezone.localdate().year + 1)
    with pytest.raises(ValidationError) as error:
        wine.clean()
    assert set(error.value.message_dict) == {"vintage"}

    wine.vintage = timezone.localdate().year
    wine.clean()


def test_region_of_another_country_is_rejected():
    wine = WineFactory()
    wine.region = RegionFactory()
    with pytest.raises(ValidationError) as error:
        wine.clean()
    assert set(error.value.message_dict) == {"region"}


def test_database_refuses_region_of_another_country():
    wine = WineFactory()
    elsewhere = RegionFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Wine.objects.filter(pk=wine.pk).update(region=elsewhere)

    wine.refresh_from_db()
    assert wine.region.country_id == wine.country_id
    Wine.objects.filter(pk=wine.pk).update(region=elsewhere, country=elsewhere.country)


def test_database_refuses_moving_region_with_wines_to_another_country():
    wine = WineFactory()
    other_country = CountryFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Region.objects.filter(pk=wine.region_id).update(country=other_country)

    assert Region.objects.get(pk=wine.region_id).country_id == wine.country_id
    empty = RegionFactory()
    Region.objects.filter(pk=empty.pk).update(country=other_country)
