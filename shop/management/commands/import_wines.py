from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shop.imports import wine_file_apply


class Command(BaseCommand):
    help = (
        "Import wines from a CSV or XLSX file (columns: sku, name, producer, vintage, category, "
        "country, region, price, stock, description, available). All or nothing: with any "
        "invalid row nothing is written and the command exits with status 1. A blank vintage, "
        "region or description leaves an existing wine's value as it is, unless --erase-blanks."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .csv (UTF-8) or .xlsx file")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and report, write nothing"
        )
        parser.add_argument(
            "--erase-blanks",
            action="store_true",
            help="blank cells erase the values of existing wines (vintage, region, description)",
        )

    def handle(self, *args, file, dry_run, erase_blanks, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        verb = "Checking" if dry_run else "Importing"

        def progress(rows: int, share: float | None) -> None:
            percent = f"{share:4.0%}" if share is not None else "   …"
            bar = "#" * round((share or 0) * 30)
            self.stderr.write(f"\r{verb} [{bar:<30}] {percent} {rows} rows", ending="")
            self.stderr.flush()

        hint = "xlsx" if path.suffix.lower() == ".xlsx" else ""
        with path.open("rb") as handle:
            report = wine_file_apply(
                file=handle,
                format_hint=hint,
                dry_run=dry_run,
                erase_blanks=erase_blanks,
                progress=progress,
            )
        self.stderr.write("")
        for line in report.summary_lines():
            self.stdout.write(line)
        if not report.ok:
            for error in report.errors:
                self.stderr.write(str(error))
            if report.invalid > len(report.errors):
                self.stderr.write(f"… and {report.invalid - len(report.errors)} more invalid rows.")
            raise CommandError("Nothing was imported." if not dry_run else "The file is invalid.")
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {report.changes} wines."))
