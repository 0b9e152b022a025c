from django.core.management.base import BaseCommand
from django.urls import reverse

from coupons.demo import seed_demo_coupons
from shop.demo import ADMIN_PASSWORD, ADMIN_USERNAME, AdminOutcome, seed_demo

# Where `manage.py runserver` listens by default.
DEV_SERVER = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = (
        "Add the demo catalog and shipping zones and, when DEBUG is on, a demo admin and demo "
        "coupons. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-admin",
            action="store_false",
            dest="create_admin",
            help="Do not create the demo admin account.",
        )

    def handle(self, *args, create_admin, **options):
        result = seed_demo(create_admin=create_admin)
        self.stdout.write(
            f"Catalog: {result.wines} wines ({result.wines_created} new), "
            f"{result.categories} categories, {result.countries} countries, "
            f"{result.regions} regions."
        )
        self.stdout.write(f"Delivery: {result.zones} shipping zones ({result.zones_created} new).")
        coupons = seed_demo_coupons()
        if coupons:
            self.stdout.write(
                "Coupons: " + ", ".join(f"{c.code} ({c.percent_off} % off)" for c in coupons) + "."
            )
        else:
            self.stdout.write(self.style.WARNING("Coupons: not created, DEBUG is off."))
        url = f"{DEV_SERVER}{reverse('admin:index')}"
        if result.admin is AdminOutcome.CREATED:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Admin: {url}  user {ADMIN_USERNAME}  password {ADMIN_PASSWORD}"
                )
            )
        elif result.admin is AdminOutcome.EXISTS:
            self.stdout.write(
                f"Admin: {url}  user {ADMIN_USERNAME}  password {ADMIN_PASSWORD}"
                " (unless it was changed since)"
            )
        elif result.admin is AdminOutcome.NOT_DEBUG:
            self.stdout.write(self.style.WARNING("Admin: not created, DEBUG is off."))
