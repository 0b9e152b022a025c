# The stored files' model, which the back office held first: its table and rows stay as they are
# (backoffice_storedfile), only Django's record of which app owns the model moves here.

from django.db import migrations, models


def content_type_to_core(apps, schema_editor):
    """Keep the model's content type, and with it the permissions granted on stored files."""
    _relabel(apps, schema_editor, old="backoffice", new="core")


def content_type_to_backoffice(apps, schema_editor):
    _relabel(apps, schema_editor, old="core", new="backoffice")


def _relabel(apps, schema_editor, *, old, new):
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_types = ContentType.objects.using(schema_editor.connection.alias)
    if not content_types.filter(app_label=new, model="storedfile").exists():
        content_types.filter(app_label=old, model="storedfile").update(app_label=new)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("backoffice", "0001_stored_file"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='StoredFile',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=255, unique=True, verbose_name='name')),
                        ('content', models.BinaryField(verbose_name='content')),
                        ('size', models.PositiveBigIntegerField(verbose_name='size')),
                        ('created', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                    ],
                    options={
                        'verbose_name': 'stored file',
                        'verbose_name_plural': 'stored files',
                        'db_table': 'backoffice_storedfile',
                    },
                ),
            ],
            # The table exists: backoffice's first migration created it.
            database_operations=[],
        ),
        migrations.RunPython(content_type_to_core, content_type_to_backoffice),
    ]
