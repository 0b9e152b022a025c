"""Benchmark the wine import on PostgreSQL against plain bulk_create / bulk_update.

``python bench/imports.py`` creates the database wineshop_bench_imports and, for each size of
BENCH_IMPORT_SIZES (10k, 100k and 1M rows), writes two CSV files of wines (the second with half
the rows changed) and imports both into an emptied wine table, each pass in a child process of
its own. At BENCH_IMPORT_ROWS (100k) it also times plain bulk_create / bulk_update and the
preview. It prints two tables: the import at BENCH_IMPORT_ROWS against the plain Django calls
(rows/s, peak memory = the child's peak resident set, ``ru_maxrss``), and the scaling table
(rows/s and peak at every size, the ratio of rows/s smallest/largest). It drops the database at
the end. bench/README.md says what each row measures and how to read the scaling table. Run as
``imports.py child STEP`` it is one pass, in the child process.
"""

import csv
import json
import os
import random
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import BASE_DIR, CATEGORIES, COUNTRIES, HOUSES, seed_places

WORK_DIR = BASE_DIR / "var" / "bench" / "imports"
DATABASE_NAME = "wineshop_bench_imports"
SERVER_URL = "postgres://postgres@127.0.0.1:5432"
BATCH = 2000  # rows per bulk_create / bulk_update call, as the import writes them
SIZES = (10_000, 100_000, 1_000_000)
RATIO_TARGET = 1.3  # rows/s at the smallest size over rows/s at the largest
PEAK_TARGET_MB = 200
PARTS = ("North", "South", "Coast", "Hills")
WORDS = [
    "Vieilles",
    "Vignes",
    "Clos",
    "Réserve",
    "Grand",
    "Cru",
    "Terroir",
    "Colline",
    "Sorì",
    "Pago",
    "Lieu-dit",
    "Cuvée",
]
HEADER = ["sku", "name", "producer", "vintage", "category", "country", "region", "price"]
HEADER += ["stock", "description", "available"]


def database_url() -> str:
    return os.environ.get("BENCH_IMPORT_DATABASE_URL", f"{SERVER_URL}/{DATABASE_NAME}")


def sizes() -> tuple[list[int], int]:
    """Return the sizes of the scaling table, smallest first, and the size of the plain table."""
    rows = int(os.environ.get("BENCH_IMPORT_ROWS", 100_000))
    text = os.environ.get("BENCH_IMPORT_SIZES", "")
    chosen = [int(size) for size in text.split(",") if size.strip()] if text else list(SIZES)
    return sorted({*chosen, rows}), rows


def bench_env() -> dict:
    largest = max(sizes()[0])
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "DATABASE_URL": database_url(),
        "DJANGO_SECRET_KEY": "bench-imports-only",
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "STRIPE_WEBHOOK_SECRET": "whsec_bench_only",
        "CACHE_URL": "locmemcache://",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(BASE_DIR),
        # The largest file passes the import's limits (200,000 rows, 50 MB by default).
        "IMPORT_MAX_ROWS": str(max(largest, 200_000)),
        "IMPORT_MAX_BYTES": str(max(largest * 400, 50 * 1024 * 1024)),
    }


# --- The files -------------------------------------------------------------------------------


def write_files(rows: int) -> tuple[Path, Path]:
    """Write the first file (all new) and the second (every other row's price and stock)."""
    rng = random.Random(2026)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    first, second = WORK_DIR / f"first-{rows}.csv", WORK_DIR / f"second-{rows}.csv"
    producers = [f"{rng.choice(HOUSES)} {rng.choice(WORDS)} {n}" for n in range(400)]
    with (
        first.open("w", newline="", encoding="utf-8") as a,
        second.open("w", newline="", encoding="utf-8") as b,
    ):
        out_a, out_b = csv.writer(a), csv.writer(b)
        out_a.writerow(HEADER)
        out_b.writerow(HEADER)
        for i in range(rows):
            country = rng.choice(COUNTRIES)
            price = Decimal(rng.randrange(600, 25_000)).scaleb(-2)
            stock = rng.randrange(0, 500)
            row = [
                f"BI{i:07d}",
                f"{rng.choice(WORDS)} {rng.choice(WORDS)} {i}",
                rng.choice(producers),
                rng.choice(["", *range(1990, 2025)]),
                rng.choice(CATEGORIES),
                country,
                f"{country} {rng.choice(PARTS)}" if rng.random() < 0.9 else "",
                f"{price:.2f}",
                stock,
                f"{rng.choice(WORDS)} and {rng.choice(WORDS)}, to drink within {i % 9 + 2} years.",
                "yes" if rng.random() < 0.95 else "no",
            ]
            out_a.writerow(row)
            if i % 2:
                row[7], row[8] = f"{price + 1:.2f}", stock + 5
            out_b.writerow(row)
    return first, second


def plain_rows(path: Path):
    """Yield the file's rows as Wine keyword arguments, foreign keys from in-memory maps."""
    from django.utils.text import slugify

    from shop.models import Category, Country, Region

    categories = dict(Category.objects.values_list("name", "pk"))
    countries = dict(Country.objects.values_list("name", "pk"))
    regions = {(c, n): pk for pk, c, n in Region.objects.values_list("pk", "country_id", "name")}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for sku, name, producer, vintage, cat, country, region, price, stock, desc, av in reader:
            country_id = countries[country]
            yield {
                "sku": sku,
                "name": name,
                "slug": slugify(f"{producer} {name} {vintage or 'NV'}"),
                "producer": producer,
                "vintage": int(vintage) if vintage else None,
                "category_id": categories[cat],
                "country_id": country_id,
                "region_id": regions[country_id, region] if region else None,
                "price": Decimal(price),
                "stock": int(stock),
                "description": desc,
                "available": av == "yes",
            }


# --- The child process: one pass -------------------------------------------------------------


def child(step: str, *args: str) -> dict:
    import django

    django.setup()
    from django.db import connection, transaction

    from shop.imports import wine_file_apply
    from shop.models import Wine

    base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {"step": step}
    if step == "migrate":
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        return result
    if step == "catalog":
        # Categories, countries and regions exist, so that every pass writes only wines.
        seed_places(PARTS)
        return result
    if step == "truncate":
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {Wine._meta.db_table} CASCADE")
        return result
    path = Path(args[0])
    start = time.perf_counter()
    if step == "bulk_create":
        from shop.models import place_names, wine_search_text

        names = place_names()
        with transaction.atomic():
            batch = []
            for values in plain_rows(path):
                # With its searchable text, as the import writes it: the trigram index of the
                # text is part of what a row costs the table.
                wine = Wine(**values)
                wine.search_text = wine_search_text(wine, names=names)
                batch.append(wine)
                if len(batch) == BATCH:
                    Wine.objects.bulk_create(batch)
                    batch = []
            Wine.objects.bulk_create(batch)
        result["rows"] = Wine.objects.count()
    elif step == "bulk_update":
        # The changed rows, with their ids looked up before the clock starts.
        ids = dict(Wine.objects.values_list("sku", "pk"))
        current = dict(Wine.objects.values_list("sku", "price"))
        changed = [
            Wine(pk=ids[v["sku"]], price=v["price"], stock=v["stock"])
            for v in plain_rows(path)
            if v["price"] != current[v["sku"]]
        ]
        start = time.perf_counter()
        with transaction.atomic():
            Wine.objects.bulk_update(changed, ["price", "stock"], batch_size=BATCH)
        result["rows"] = len(changed)
    elif step in ("import", "preview"):
        trace = int(os.environ.get("BENCH_IMPORT_TRACEMALLOC", 0))
        if trace:
            import tracemalloc

            tracemalloc.start()
        with path.open("rb") as handle:
            report = wine_file_apply(file=handle, dry_run=step == "preview")
        if trace:
            snapshot = tracemalloc.take_snapshot()
            result["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1024 / 1024
            result["top"] = [str(stat) for stat in snapshot.statistics("lineno")[:trace]]
        if not report.ok:
            raise SystemExit(f"{path.name}: {report.summary_lines()} {report.errors[:5]}")
        result.update(
            rows=report.rows, new=report.new, updated=report.updated, unchanged=report.unchanged
        )
    else:
        raise SystemExit(f"unknown step {step}")
    result["seconds"] = time.perf_counter() - start
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["base_mb"] = base_kb / 1024
    return result


def run(step: str, *args) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "child", step, *map(str, args)],
        env=bench_env(),
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode:
        raise SystemExit(f"bench/imports.py child {step} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --- The parent: database, files, table ------------------------------------------------------


def admin_sql(sql: str) -> None:
    import psycopg

    url = database_url()
    server, name = url.rsplit("/", 1)
    if "bench" not in name:
        raise SystemExit(f"BENCH_IMPORT_DATABASE_URL names {name}: its name must contain 'bench'")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(sql.format(name=name))


def main() -> int:
    all_sizes, rows = sizes()
    try:
        admin_sql('DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin_sql('CREATE DATABASE "{name}"')
    except Exception as error:
        print(f"Wine import bench skipped: PostgreSQL is not available ({error}).")
        return 0
    scaling = {}
    try:
        run("migrate")
        run("catalog")
        for size in all_sizes:
            first, second = write_files(size)
            # The floor at every size: the same table, its indexes and triggers, written by
            # plain bulk_create.
            run("truncate")
            floor = run("bulk_create", first)
            if size == rows:
                plain_create = floor
            run("truncate")
            import_new = run("import", first)
            if size == rows:
                plain_update = run("bulk_update", second)
                run("bulk_update", first)  # back to the first file's values, untimed
                preview = run("preview", second)
            import_changed = run("import", second)
            scaling[size] = (floor, import_new, import_changed)
            print(f"{size:,} rows done.", file=sys.stderr, flush=True)
            first.unlink()
            second.unlink()
    finally:
        admin_sql('DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _, import_new, import_changed = scaling[rows]
    print_table(rows, plain_create, import_new, plain_update, preview, import_changed)
    print_scaling(scaling)
    return 0


def print_scaling(scaling: dict[int, tuple[dict, dict]]) -> None:
    """Print rows/s and peak of both imports at every size, and whether they stay flat."""
    sizes = sorted(scaling)
    print(
        "\nWine import scaling, PostgreSQL: rows/s = rows of the file / seconds, peak = the "
        "pass's child process RSS\n"
    )
    head = "".join(f" {f'{size:,} rows/s':>16} | {'peak MB':>7} |" for size in sizes)
    print(f"| {'pass':<32} |{head} {'rows/s smallest/largest':>23} | {'peak < 200 MB':>13} |")
    print(f"|{'-' * 34}|" + f"{'-' * 18}|{'-' * 9}|" * len(sizes) + f"{'-' * 25}|{'-' * 15}|")
    passes = ("plain bulk_create (the floor)", "first import (all new)")
    passes += ("second import (half changed)",)
    ratios = []
    for index, label in enumerate(passes):
        results = [scaling[size][index] for size in sizes]
        rates = [result["rows"] / result["seconds"] for result in results]
        cells = "".join(
            f" {rate:>16,.0f} | {result['peak_mb']:>7.0f} |"
            for rate, result in zip(rates, results, strict=True)
        )
        ratio = rates[0] / rates[-1]
        ratios.append(ratio)
        verdict = "" if index == 0 else " ok" if ratio <= RATIO_TARGET else " OVER"
        ratio_text = f"{ratio:.2f}{verdict}"
        under = all(result["peak_mb"] < PEAK_TARGET_MB for result in results)
        print(f"| {label:<32} |{cells} {ratio_text:>23} | {'yes' if under else 'no':>13} |")
        for size, result in zip(sizes, results, strict=True):
            for line in result.get("top", []):
                print(f"    {label}, {size:,}: {line}")
    print(
        f"\nTargets: rows/s smallest/largest at most {RATIO_TARGET} (the import's cost per row "
        f"stays flat as the file grows) and every peak under {PEAK_TARGET_MB} MB. The floor's "
        f"own ratio is {ratios[0]:.2f}; the imports' are {ratios[1] / ratios[0]:.2f} and "
        f"{ratios[2] / ratios[0]:.2f} times it."
    )


def print_table(rows, plain_create, import_new, plain_update, preview, import_changed) -> None:
    def line(label, result, rate_rows, ratio=""):
        seconds = result["seconds"]
        rate = rate_rows / seconds
        print(
            f"| {label:<42} | {rate_rows:>8,} | {seconds:>7.2f} | {rate:>9,.0f} | "
            f"{result['peak_mb']:>7.0f} | {ratio:>11} |"
        )

    changed = import_changed["updated"]
    print(f"\nWine import, {rows:,} rows, PostgreSQL (peak = the pass's child process RSS)\n")
    print(
        f"| {'pass':<42} | {'rows':>8} | {'seconds':>7} | {'rows/s':>9} | {'peak MB':>7} |"
        f" {'vs plain':>11} |"
    )
    print(f"|{'-' * 44}|{'-' * 10}|{'-' * 9}|{'-' * 11}|{'-' * 9}|{'-' * 13}|")
    line("plain bulk_create", plain_create, plain_create["rows"])
    line(
        "first import (all new)",
        import_new,
        import_new["new"],
        f"{import_new['seconds'] / plain_create['seconds']:.2f}x time",
    )
    line("plain bulk_update (changed rows)", plain_update, plain_update["rows"])
    line("preview of the second file", preview, preview["rows"])
    line(
        f"second import ({changed:,} of {import_changed['rows']:,} changed)",
        import_changed,
        changed,
        f"{import_changed['seconds'] / plain_update['seconds']:.2f}x time",
    )
    print(
        f"\nA child process holds Python, Django and the connection before its pass: "
        f"{import_new['base_mb']:.0f} MB. Targets: the first import within 3x of bulk_create's "
        "time, the second within 3x of bulk_update's, every peak under 200 MB."
    )


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "child":
        sys.path.insert(0, str(BASE_DIR))
        print(json.dumps(child(sys.argv[2], *sys.argv[3:])))
        sys.exit(0)
    sys.exit(main())
