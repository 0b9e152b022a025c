"""A wine import's start and end are named as a report's are: started_at and finished_at."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0005_wine_photos"),
    ]

    operations = [
        migrations.RenameField(model_name="wineimport", old_name="started", new_name="started_at"),
        migrations.RenameField(
            model_name="wineimport", old_name="finished", new_name="finished_at"
        ),
    ]
