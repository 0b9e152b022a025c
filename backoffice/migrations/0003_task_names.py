# Each task now has the name of the service it runs. Periodic tasks saved under a former name,
# by the schedule or by an operator in the admin, are moved to the new one; reversing moves
# them back.

from django.db import migrations
from django.utils import timezone

RENAMED = {
    "backoffice.tasks.clear_sessions": "backoffice.tasks.session_clear_expired",
    "coupons.tasks.generate_batch": "coupons.tasks.coupon_batch_generate",
    "orders.tasks.alert_email_failed": "orders.tasks.order_email_failure_alert",
    "orders.tasks.alert_payment_flagged": "orders.tasks.order_payment_alert",
    "orders.tasks.expire_unpaid_orders": "orders.tasks.order_expire_unpaid",
    "orders.tasks.send_order_email": "orders.tasks.order_email_send",
    "orders.tasks.send_pending_emails": "orders.tasks.order_email_send_pending",
    "payments.tasks.reconcile_payments": "payments.tasks.payment_reconcile",
    "reports.tasks.build_report": "reports.tasks.report_build",
    "reports.tasks.daily_report": "reports.tasks.report_daily",
    "reports.tasks.generate_invoice": "reports.tasks.invoice_ensure",
    "shop.tasks.low_stock_alert": "shop.tasks.wine_low_stock_alert",
}


def _rename(apps, mapping):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    changed = 0
    for old, new in mapping.items():
        changed += PeriodicTask.objects.filter(task=old).update(task=new)
    if changed:
        # Beat reloads its schedule when this stamp moves (what PeriodicTask.save does).
        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def forwards(apps, schema_editor):
    _rename(apps, RENAMED)


def backwards(apps, schema_editor):
    _rename(apps, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0002_stored_file_to_core"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
