from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from payments.sandbox.server import SandboxServer


class Command(BaseCommand):
    help = (
        "Run the offline Stripe sandbox (development only): the Checkout and Refunds APIs the "
        "shop calls, a hosted payment page, and signed events posted to the shop's webhook."
    )

    def add_arguments(self, parser):
        address = urlsplit(settings.STRIPE_SANDBOX_URL)
        parser.add_argument("--host", default=address.hostname or "127.0.0.1")
        parser.add_argument("--port", type=int, default=address.port or 12111)
        parser.add_argument(
            "--webhook-url",
            default="http://127.0.0.1:8000" + reverse("payments:webhook"),
            help="Where to post events (default: %(default)s).",
        )
        parser.add_argument(
            "--state",
            help="A JSON file keeping sessions, payments and refunds across restarts "
            "(default: memory).",
        )
        parser.add_argument(
            "--latency",
            type=float,
            default=0.0,
            help="Seconds each API call waits before its answer, to try a slow Stripe.",
        )

    def handle(self, *args, host, port, webhook_url, state, latency, **options):
        # Production runs with DEBUG off: no payment there may ever be faked.
        if not settings.STRIPE_SANDBOX_ALLOWED:
            raise CommandError(
                "The Stripe sandbox is for development only: STRIPE_SANDBOX_ALLOWED is off "
                "(it follows DEBUG)."
            )
        if not settings.STRIPE_WEBHOOK_SECRET:
            raise CommandError(
                "Set STRIPE_WEBHOOK_SECRET (any whsec_... value): the sandbox signs its events "
                "with it, and the webhook checks them with it."
            )
        try:
            server = SandboxServer(
                host,
                port,
                webhook_url=webhook_url,
                secret=settings.STRIPE_WEBHOOK_SECRET,
                state_path=state,
                latency=latency,
            )
        except OSError as error:
            raise CommandError(f"Cannot listen on {host}:{port}: {error}") from error
        self.stdout.write(
            f"Stripe sandbox on {server.base_url} (STRIPE_SANDBOX_URL), events to {webhook_url}. "
            "Ctrl-C stops it."
        )
        server.serve_until_interrupted()
