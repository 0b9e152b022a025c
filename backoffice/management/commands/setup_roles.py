from django.core.management.base import BaseCommand

from backoffice.roles import setup_roles


class Command(BaseCommand):
    help = "Create or update the staff groups (Merchants, Operations) and their permissions."

    def handle(self, *args, **options):
        for name, created, count in setup_roles():
            self.stdout.write(f"{name}: {'created' if created else 'updated'}, {count} permissions")
