# Every invoice keeps a snapshot of what it shows. Invoices issued before start with an empty
# one, which the next migration fills.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="invoice",
            name="snapshot",
            field=models.JSONField(default=dict, editable=False, verbose_name="snapshot"),
            preserve_default=False,
        ),
    ]
