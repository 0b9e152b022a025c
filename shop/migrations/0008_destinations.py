from django.conf import settings
from django.db import migrations

from shop.delivery.countries import COUNTRY_NAMES, DEFAULT_MINIMUM_AGE, MINIMUM_AGES, VAT_RATES


def destinations_seed(apps, schema_editor):
    """Every country the shop knows, at its default VAT rate (the shop's own at VAT_RATE)."""
    Destination = apps.get_model("shop", "Destination")
    for code in COUNTRY_NAMES:
        Destination.objects.get_or_create(
            country=code,
            defaults={
                "vat_rate": settings.VAT_RATE if code == settings.SHOP_COUNTRY else VAT_RATES[code],
                "minimum_age": MINIMUM_AGES.get(code, DEFAULT_MINIMUM_AGE),
            },
        )


class Migration(migrations.Migration):
    dependencies = [("shop", "0007_delivery")]

    operations = [migrations.RunPython(destinations_seed, migrations.RunPython.noop)]
