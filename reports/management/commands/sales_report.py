from datetime import date, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from reports.exceptions import InvalidPeriod
from reports.models import Report
from reports.services import report_build, report_request


class Command(BaseCommand):
    help = "Build the sales report of a day, week or month here and now, and write its files."

    def add_arguments(self, parser):
        parser.add_argument("--period", choices=Report.Kind.values, default=Report.Kind.DAY)
        parser.add_argument(
            "--date",
            dest="day",
            type=date.fromisoformat,
            help="any day of the period, YYYY-MM-DD (default: yesterday)",
        )
        parser.add_argument("--output-dir", type=Path, help="where to write the PDF and CSV")

    def handle(self, *args, period, day, output_dir, **options):
        day = day or timezone.localdate() - timedelta(days=1)
        try:
            report = report_request(kind=period, start=day, queue=False)
        except InvalidPeriod as error:
            raise CommandError(str(error)) from None
        report = report_build(report_id=report.pk)
        if report.status != Report.Status.DONE:
            raise CommandError(f"The report failed: {report.error}")
        if output_dir:
            output_dir.mkdir(parents=True, exist_ok=True)
            for extension in ("pdf", "csv"):
                with getattr(report, extension).open("rb") as file:
                    (output_dir / report.filename(extension)).write_bytes(file.read())
        self.stdout.write(f"{report}: done (report {report.pk}).")
