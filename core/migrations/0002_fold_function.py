from django.db import migrations

from core.search import SQL_FUNCTION, fold_function_sql


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(fold_function_sql())


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {SQL_FUNCTION}(text)")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_stored_file")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
