# StoredFile now belongs to core (core/migrations/0001_stored_file.py), which keeps its table:
# the back office lets go of the model in Django's record only, and drops nothing.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("backoffice", "0001_stored_file"),
        ("core", "0001_stored_file"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="StoredFile")],
            database_operations=[],
        ),
    ]
