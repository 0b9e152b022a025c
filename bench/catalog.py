"""Benchmark the wine list with a cold cache at 1,000, 10,000 and 100,000 wines on PostgreSQL.

``python bench/catalog.py`` creates the database wineshop_bench_cat (BENCH_CATALOG_DATABASE_URL
to change it; its name must contain ``bench_cat``), migrates it, grows the catalog size by size
and times each page through Django's test client with the cache emptied before every request:
the median of BENCH_CATALOG_RUNS requests, the queries, and the ratio of the largest size to the
smallest (target: at most 1.5, the same queries). It drops the database at the end, and skips
with one line when PostgreSQL does not answer. bench/README.md says what the rows measure.
"""

import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    BASE_DIR,
    BenchError,
    database_name,
    postgres,
    random_wines,
    reset_postgres,
    run_script,
    seed_places,
)

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/wineshop_bench_cat"
SIZES = (1_000, 10_000, 100_000)
RUNS = 15  # cold requests of each page at each size; the median counts
WARMUP = 3
WORDS = ["Vieilles", "Vignes", "Clos", "Réserve", "Grand", "Cru", "Terroir", "Colline"]
WORDS += ["Sorì", "Pago", "Lieu-dit", "Cuvée"]
# A region of ten wines at every size: a filter few wines match (small_region).
SMALL_REGION = "enclave"
# The pages, with what a visitor would ask: a country, a small region, a search, both with an
# order.
PAGES = [
    ("wine list", ""),
    ("filtered by country", "?country=france"),
    ("one small region", f"?region={SMALL_REGION}"),
    ("search", "?q=chateau+vignes"),
    ("filtered search", "?q=CHÂTEAU&country=italy&sort=price"),
]


def database_url() -> str:
    return os.environ.get("BENCH_CATALOG_DATABASE_URL", DATABASE_URL)


def setup_django(url: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="backoffice.settings",
        DATABASE_URL=url,
        DJANGO_SECRET_KEY="bench-catalog-only",  # noqa: S106 - a throwaway database
        DJANGO_ALLOWED_HOSTS="testserver",
        STRIPE_WEBHOOK_SECRET="whsec_bench_only",  # noqa: S106
        CACHE_URL="locmemcache://",
        CELERY_TASK_ALWAYS_EAGER="1",
        LOG_LEVEL="WARNING",
        DJANGO_DEBUG="0",
        STATIC_ROOT=str(BASE_DIR / "var" / "bench" / "catalog-static"),
    )
    import django

    django.setup()


def grow(rng: random.Random, start: int, stop: int) -> None:
    """Add the wines numbered start to stop, as the web bench seeds them, and store their
    searchable text; then refresh the planner's statistics."""
    from django.db import connection

    from shop.models import Wine, wine_search_text_refresh

    def stock(rng):
        return rng.choice([0, 3, 12, 1000]), rng.random() < 0.95

    wines = random_wines(
        rng, range(start, stop), sku="C%06d", words=WORDS, producers=400, stock=stock
    )
    Wine.objects.bulk_create(wines, batch_size=5_000)
    wine_search_text_refresh(Wine.objects.filter(sku__gte=f"C{start:06d}"))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE shop_wine")


def small_region() -> None:
    """Keep ten wines on sale, and no others, in a region of their own: the first ten of a
    country. Wines grown since that drew the region move to another of their country's."""
    from shop.models import Region, Wine, wine_search_text_refresh

    first = Wine.objects.filter(available=True).order_by("sku").first()
    region, _ = Region.objects.get_or_create(
        slug=SMALL_REGION, defaults={"country_id": first.country_id, "name": "Enclave"}
    )
    wines = Wine.objects.filter(country_id=region.country_id, available=True).order_by("sku")
    ten = list(wines.values_list("pk", flat=True)[:10])
    drawn = Wine.objects.filter(region=region).exclude(pk__in=ten)
    drawn = list(drawn.values_list("pk", flat=True))
    other = Region.objects.filter(country_id=region.country_id).exclude(pk=region.pk).first()
    Wine.objects.filter(pk__in=drawn).update(region=other)
    Wine.objects.filter(pk__in=ten).update(region=region)
    wine_search_text_refresh(Wine.objects.filter(pk__in=ten + drawn))


def measure(path: str) -> tuple[float, int, int]:
    """Return the median milliseconds of a cold request, its queries and the wines it shows."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    timings, queries = [], set()
    for run in range(WARMUP + RUNS):
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(f"/{path}", secure=True)
            elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise BenchError(f"/{path} answered {response.status_code}")
        if run >= WARMUP:
            timings.append(elapsed * 1000)
            queries.add(len(captured))
    if len(queries) != 1:
        raise BenchError(f"/{path} ran {sorted(queries)} queries from one request to the next")
    shown = response.content.decode().count('class="wine-card"')
    return statistics.median(timings), queries.pop(), shown


def run_sizes() -> dict[str, list[tuple[float, int, int]]]:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    seed_places(("North", "South", "Coast", "Hills"))
    rng = random.Random(2026)
    figures = {page: [] for page, _ in PAGES}
    done = 0
    for size in SIZES:
        print(f"bench: catalog at {size:,} wines", file=sys.stderr)
        grow(rng, done, size)
        small_region()
        done = size
        for page, path in PAGES:
            figures[page].append(measure(path))
    return figures


def report(figures: dict) -> None:
    sizes = "".join(f"{f'{size:,} wines':>20}" for size in SIZES)
    print(
        f"\nWine list, cold cache, PostgreSQL: median ms of {RUNS} requests (queries, wines shown)"
    )
    print(f"{'page':<22}{sizes}{'largest/smallest':>18}")
    for page, rows in figures.items():
        cells = "".join(
            f"{f'{ms:.1f} ms ({queries} q, {shown})':>20}" for ms, queries, shown in rows
        )
        ratio = rows[-1][0] / rows[0][0]
        same = "" if len({queries for _, queries, _ in rows}) == 1 else "  queries differ"
        print(f"{page:<22}{cells}{ratio:>17.2f}x{same}")
    print("Target: the largest within 1.5x of the smallest, with the same queries.")


def drop(url: str) -> None:
    from psycopg import sql

    if "django" in sys.modules:
        from django.db import connections

        connections.close_all()
    with postgres(url, dbname="postgres") as conn:
        name = sql.Identifier(database_name(url))
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def main() -> int:
    url = database_url()
    try:
        reset_postgres(url, marker="bench_cat")
    except BenchError:
        raise
    except Exception as error:  # any failure to connect means "not here"
        print(f"Catalog scaling bench skipped: PostgreSQL is not available ({error}).")
        return 0
    try:
        setup_django(url)
        figures = run_sizes()
    finally:
        drop(url)
    report(figures)
    return 0


if __name__ == "__main__":
    run_script("catalog", main, None, failed=1)
