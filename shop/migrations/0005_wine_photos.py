"""Wine photos in public media (the database), with a catalog-card size and their dimensions.

SQLite rebuilds shop_wine to add a column that is not null, and refuses while triggers of
0002_region_country_triggers name the table: they are dropped for the rebuild and made again.
"""

from importlib import import_module

import core.storage
from django.db import migrations, models

triggers = import_module("shop.migrations.0002_region_country_triggers")


def _sqlite(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for statement in statements:
                schema_editor.execute(statement)

    return run


DROP = migrations.RunPython(_sqlite(triggers.SQLITE_REVERSE), _sqlite(triggers.SQLITE))
CREATE = migrations.RunPython(_sqlite(triggers.SQLITE), _sqlite(triggers.SQLITE_REVERSE))


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0004_job_status_choices'),
    ]

    operations = [
        DROP,
        migrations.AddField(
            model_name='wine',
            name='image_height',
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='photo height'),
        ),
        migrations.AddField(
            model_name='wine',
            name='image_width',
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='photo width'),
        ),
        migrations.AddField(
            model_name='wine',
            name='thumbnail',
            field=models.ImageField(blank=True, storage=core.storage.media_storage, upload_to='wines/', verbose_name='thumbnail'),
        ),
        migrations.AddField(
            model_name='wine',
            name='thumbnail_height',
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='thumbnail height'),
        ),
        migrations.AddField(
            model_name='wine',
            name='thumbnail_width',
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='thumbnail width'),
        ),
        migrations.AlterField(
            model_name='wine',
            name='image',
            field=models.ImageField(blank=True, storage=core.storage.media_storage, upload_to='wines/', verbose_name='photo'),
        ),
        CREATE,
    ]
