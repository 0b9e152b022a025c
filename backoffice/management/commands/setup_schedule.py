from django.core.management.base import BaseCommand

from backoffice.schedule import setup_schedule


class Command(BaseCommand):
    help = "Create or update the shop's periodic tasks, leaving their enabled flag alone."

    def handle(self, *args, **options):
        for name, created in setup_schedule():
            self.stdout.write(f"{name}: {'created' if created else 'up to date'}")
