from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports.exceptions import NotInvoiceable
from reports.selectors import order_id_by_number
from reports.services import invoice_ensure, invoice_regenerate


class Command(BaseCommand):
    help = "Make (once) or regenerate the invoice of a paid order and write its PDF to a file."

    def add_arguments(self, parser):
        parser.add_argument("order", help="the order's number, e.g. WS-7K3F-9QH2")
        parser.add_argument("--output", type=Path, help="where to write the PDF")
        parser.add_argument(
            "--regenerate", action="store_true", help="render it again, keeping its number"
        )

    def handle(self, *args, order, output, regenerate, **options):
        order_id = order_id_by_number(number=order)
        if order_id is None:
            raise CommandError(f"No order {order}.")
        try:
            make = invoice_regenerate if regenerate else invoice_ensure
            invoice = make(order_id=order_id)
        except NotInvoiceable as error:
            raise CommandError(str(error)) from None
        if output:
            with invoice.file.open("rb") as pdf:
                output.write_bytes(pdf.read())
        self.stdout.write(f"{invoice.number}" + (f" written to {output}" if output else ""))
