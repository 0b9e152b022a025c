"""Staff roles: the groups a merchant puts back-office users in.

Permissions are granted by app label, so the models an app gains later are part of its role the
next time `manage.py setup_roles` runs (at every start-up). A role's permissions are set to
exactly what is defined here: give someone more through another group or their own permissions.
"""

from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q, QuerySet


@dataclass(frozen=True)
class Role:
    name: str
    # Every permission (add, change, delete, view and custom ones) of these apps.
    apps: tuple[str, ...] = ()
    # Only the view permissions of these apps.
    view_apps: tuple[str, ...] = ()

    def permissions(self) -> QuerySet[Permission]:
        return Permission.objects.filter(
            Q(content_type__app_label__in=self.apps)
            | Q(content_type__app_label__in=self.view_apps, codename__startswith="view_")
        )


ROLES = [
    # Catalog and stock, orders, coupons, CSV imports and exports, reports; orders'
    # refund_order among them: refunds, and paid orders canceled by refunding them.
    Role("Merchants", apps=("shop", "orders", "coupons", "reports", "import_export")),
    # Periodic tasks and their schedules, task results, Stripe's webhook events, stored files;
    # the workers card and the Flower link follow django_celery_beat.view_periodictask.
    Role(
        "Operations",
        apps=("django_celery_beat",),
        view_apps=("django_celery_results", "payments", "core"),
    ),
]


@transaction.atomic
def setup_roles() -> list[tuple[str, bool, int]]:
    """Create or update each role's group; return (name, created, permission count) for each."""
    outcome = []
    for role in ROLES:
        group, created = Group.objects.get_or_create(name=role.name)
        permissions = list(role.permissions())
        group.permissions.set(permissions)
        outcome.append((role.name, created, len(permissions)))
    return outcome
