from django.core.management.base import BaseCommand

from backoffice.broker import clear_stale_fanout, ensure_folders


class Command(BaseCommand):
    help = (
        "Before the worker, beat and Flower start on the filesystem broker: create its folders "
        "and clear the event and remote-control bindings left by processes that stopped."
    )

    def handle(self, *args, **options):
        ensure_folders()
        bindings, messages = clear_stale_fanout()
        self.stdout.write(f"Broker ready: {bindings} stale bindings, {messages} messages cleared.")
