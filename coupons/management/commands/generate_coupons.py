from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from coupons.forms import CouponBatchForm
from coupons.services import coupon_batch_create


class Command(BaseCommand):
    help = "Generate a batch of unique random coupon codes (the admin's batch form, here)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--percent", type=int, required=True, help="discount, 1-100")
        parser.add_argument("--prefix", default="")
        parser.add_argument("--length", type=int, default=10, help="random characters per code")
        parser.add_argument("--max-uses", type=int, default=1, help="uses per code; 0: unlimited")
        parser.add_argument("--valid-from", help="ISO date and time, default now")
        parser.add_argument("--valid-to", help="ISO date and time, default none")

    def handle(self, *args, **options):
        form = CouponBatchForm(
            data={
                "name": options["name"],
                "prefix": options["prefix"],
                "count": options["count"],
                "code_length": options["length"],
                "percent_off": options["percent"],
                "max_uses": options["max_uses"] or "",
                "valid_from": options["valid_from"] or timezone.now(),
                "valid_to": options["valid_to"] or "",
            }
        )
        if not form.is_valid():
            problems = "; ".join(
                f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()
            )
            raise CommandError(problems)
        fields = {name: form.cleaned_data[name] for name in CouponBatchForm.Meta.fields}

        def progress(made: int, total: int) -> None:
            self.stderr.write(f"\r{made:,} / {total:,} codes", ending="")
            self.stderr.flush()

        batch = coupon_batch_create(**fields, background=False, on_progress=progress)
        self.stderr.write("")
        self.stdout.write(
            f'Batch {batch.pk} "{batch.name}": {batch.generated:,} codes, '
            f"{batch.percent_off} % off, e.g. {batch.coupons.first().code}."
        )
