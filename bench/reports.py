"""Benchmark invoices and the admin dashboard on PostgreSQL; print figures, never assert them.

``python bench/reports.py`` creates its own database (BENCH_REPORTS_DATABASE_URL, by default
wineshop_bench_reports on the local server), fills it, measures in this one process, and drops
the database at the end. bench/README.md says what each row means. BENCH_REPORTS_ONLY=invoices
measures the invoice rows alone.
"""

import os
import statistics
import sys
import time
import warnings
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/wineshop_bench_reports"
INVOICES = 100  # of 10 lines, one after the other
LONG_INVOICES = 3  # of 300 lines; the median counts
DASHBOARD_ORDERS = 100_000
SCALING_ORDERS = (10_000, 100_000, 1_000_000)  # one database grown from the first to the last
ORDER_PAGE_ITEMS = 30
WINES = 60
ROUNDS = 15  # requests per timed page; the median counts
BASELINE_RENDERS = 50


def database_url() -> str:
    return os.environ.get("BENCH_REPORTS_DATABASE_URL", DEFAULT_DATABASE_URL)


def postgres(statement: str) -> None:
    import environ
    import psycopg
    from psycopg import sql

    config = environ.Env.db_url_config(database_url())
    if "bench" not in config["NAME"]:
        sys.exit("BENCH_REPORTS_DATABASE_URL is dropped each run: its name must contain 'bench'")
    params = {"host": config["HOST"], "port": config["PORT"], "user": config["USER"]}
    params = {k: v for k, v in {**params, "password": config["PASSWORD"]}.items() if v}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(sql.SQL(statement).format(sql.Identifier(config["NAME"])))


def setup_django() -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "backoffice.settings",
            "DATABASE_URL": database_url(),
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "bench-only-key",
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "STRIPE_WEBHOOK_SECRET": "whsec_bench_only",
            "CACHE_URL": "locmemcache://",
            "LOG_LEVEL": "WARNING",
            # The test client speaks plain HTTP, as the web bench's wrk does.
            "DJANGO_SECURE_SSL_REDIRECT": "0",
        }
    )
    sys.path.insert(0, str(BASE_DIR))
    # whitenoise looks for collected static files, which this bench does not need.
    warnings.filterwarnings("ignore", "No directory at")
    import django

    django.setup()


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def seed_catalog():
    from shop.models import Category, Country, Region, Wine

    categories = Category.objects.bulk_create(
        [Category(name=name, slug=name.lower()) for name in ("Red", "White", "Rosé", "Sweet")]
    )
    countries = Country.objects.bulk_create(
        [Country(name=name, slug=name.lower()) for name in ("France", "Italy", "Spain")]
    )
    regions = Region.objects.bulk_create(
        [Region(country=c, name=f"{c.name} region", slug=f"{c.slug}-r") for c in countries]
    )
    names = ["Château Lagrézette", "Bodega Carmen Rodríguez", "Cordero di Montezemolo"]
    return Wine.objects.bulk_create(
        [
            Wine(
                sku=f"B-{n:05d}",
                name=f"{names[n % 3]} cuvée {n}",
                slug=f"bench-{n}",
                producer=names[n % 3],
                vintage=2010 + n % 12,
                category=categories[n % 4],
                country=countries[n % 3],
                region=regions[n % 3],
                price=Decimal("12.50") + n,
                stock=n % 9,
            )
            for n in range(WINES)
        ]
    )


def paid_orders(count: int, lines: int, prefix: str) -> list[int]:
    from reports.tests.factories import paid_order

    line = [("Château Lagrézette Cahors", Decimal("24.90"), 2)]
    return [
        paid_order(
            line * lines, number=f"{prefix}-{n:05d}", coupon_code="BENCH", discount=Decimal("1.00")
        ).pk
        for n in range(count)
    ]


def empty_pdf() -> None:
    from reports.pdf import build, style, text

    build([text("Wine-Shop", style("baseline"))], title="baseline", footer="baseline")


def pdf_alone(order_ids: list[int]) -> list[float]:
    """Return the seconds of drawing each of the orders' issued invoices again from its stored
    snapshot (the PDF part of invoice_ensure, without numbering, storing or committing)."""
    from reports.invoices import InvoiceSnapshot, invoice_pdf
    from reports.models import Invoice

    snapshots = Invoice.objects.filter(order_id__in=order_ids).values_list("snapshot", flat=True)
    return [
        timed(lambda data=data: invoice_pdf(InvoiceSnapshot.from_json(data)))
        for data in list(snapshots)
    ]


def split_rows(each: float, pdf: float, baseline: float) -> list[tuple[str, str, str]]:
    """Return the rows that split an invoice's time into its PDF and the rest."""
    rest = each - pdf
    return [
        ("  of which the PDF alone", f"{pdf * 1000:.1f} ms", f"{pdf / baseline:.2f}"),
        (
            "  of which number, snapshot, stored file, commits",
            f"{rest * 1000:.1f} ms",
            f"{rest / baseline:.2f}",
        ),
    ]


def median_get(client, url: str) -> float:
    client.get(url)  # warm-up
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
    return statistics.median(times)


def median_get_counted(client, url: str, before=None) -> tuple[float, int]:
    """Return the median time of GET url, each after calling before if given, and the number
    of queries one GET makes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up
    times = []
    for _ in range(ROUNDS):
        if before:
            before()
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
    return statistics.median(times), len(queries)


def orders_grow(size: int) -> None:
    """Copy orders and their items in SQL until the database holds size orders, then ANALYZE.

    Each round copies the oldest orders under new numbers (paid on the same days, in the same
    statuses), so the mix of the first orders stays the mix of them all.
    """
    from django.db import connection
    from psycopg import sql

    from orders.changes import VERSION
    from orders.models import Order, OrderItem

    def columns(model, *left_out: str, table: str = "") -> sql.Composable:
        names = [f.column for f in model._meta.concrete_fields if f.column not in left_out]
        return sql.SQL(", ").join(sql.Identifier(*filter(None, [table, n])) for n in names)

    copy_orders = sql.SQL(
        "INSERT INTO orders_order (number, {fields}) "
        "SELECT %s::text || id, {fields} FROM orders_order ORDER BY id LIMIT %s"
    ).format(fields=columns(Order, "id", "number"))
    copy_items = sql.SQL(
        "INSERT INTO orders_orderitem (order_id, {fields}) SELECT copy.id, {item_fields} "
        "FROM orders_orderitem item "
        "JOIN orders_order copy ON copy.number = %s::text || item.order_id"
    ).format(
        fields=columns(OrderItem, "id", "order_id"),
        item_fields=columns(OrderItem, "id", "order_id", table="item"),
    )
    with connection.cursor() as cursor:
        while (held := Order.objects.count()) < size:
            tag = f"C{held}-"  # numbers of their own in each round
            cursor.execute(copy_orders, [tag, min(held, size - held)])
            cursor.execute(copy_items, [tag])
        cursor.execute("ANALYZE")
    # Rows written in SQL announce nothing: the dashboard's cached figures are retired here.
    VERSION.replace()


def print_scaling(scaling: dict[str, list[tuple[float, int]]]) -> None:
    sizes = [f"{size:,} orders" for size in SCALING_ORDERS]
    width = max(len(name) for name in scaling)
    print(
        f"\n{'cost as the shop grows':<{width}}", *(f"{s:>24}" for s in sizes), "  largest/smallest"
    )
    for name, figures in scaling.items():
        cells = [f"{seconds * 1000:.1f} ms, {count} queries" for seconds, count in figures]
        ratio = figures[-1][0] / figures[0][0]
        same = "queries equal" if len({count for _, count in figures}) == 1 else "queries differ"
        print(f"{name:<{width}}", *(f"{c:>24}" for c in cells), f"  {ratio:.2f} ({same})")


def staff(username: str, *permissions: str):
    from django.contrib.auth.models import Permission, User

    user = User.objects.create_user(username, is_staff=True)  # logged in by force_login
    user.user_permissions.add(*Permission.objects.filter(codename__in=permissions))
    return user


def measure() -> list[tuple[str, str, str]]:
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings

    from orders.changes import VERSION
    from reports.services import invoice_ensure
    from reports.tests.factories import bulk_orders, paid_order

    rows = []
    # No collectstatic here: the admin's pages find unfold's static files where they lie.
    with override_settings(
        STORAGES={
            **settings.STORAGES,
            "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ):
        call_command("migrate", verbosity=0)
        wines = seed_catalog()

        baseline = timed(lambda: [empty_pdf() for _ in range(BASELINE_RENDERS)])
        baseline /= BASELINE_RENDERS
        rows.append(("one-page PDF, one line (baseline)", f"{baseline * 1000:.1f} ms", "1.00"))

        ids = paid_orders(INVOICES, 10, "WS-INV10")
        seconds = timed(lambda: [invoice_ensure(order_id=pk) for pk in ids])
        each = seconds / INVOICES
        rows.append(
            (
                f"invoice, 10 lines ({INVOICES} in a row)",
                f"{INVOICES / seconds:.1f} invoices/s ({each * 1000:.1f} ms)",
                f"{each / baseline:.2f}",
            )
        )
        rows += split_rows(each, statistics.mean(pdf_alone(ids)), baseline)
        long_ids = paid_orders(LONG_INVOICES, 300, "WS-INV300")
        long = statistics.median(
            timed(lambda pk=pk: invoice_ensure(order_id=pk)) for pk in long_ids
        )
        rows.append(("invoice, 300 lines", f"{long * 1000:.0f} ms", f"{long / baseline:.2f}"))
        rows += split_rows(long, statistics.median(pdf_alone(long_ids)), baseline)
        if os.environ.get("BENCH_REPORTS_ONLY") == "invoices":
            return rows

        # The workers card asks the broker (up to 0.5 s): these staff may not see it, so the
        # figures are the database's and the page's.
        merchant, clerk = Client(), Client()
        merchant.force_login(staff("merchant", "view_order", "view_report", "view_wine"))
        clerk.force_login(staff("clerk", "view_wine"))
        ping = median_get(merchant, "/ping/")
        plain = median_get(clerk, "/admin/")
        rows += [
            ("GET /ping/ (baseline)", f"{ping * 1000:.1f} ms", "1.00"),
            ("admin index without the dashboard", f"{plain * 1000:.1f} ms", f"{plain / ping:.2f}"),
        ]
        line = [("Château Lagrézette Cahors", Decimal("24.90"), 2)]
        order = paid_order(line * ORDER_PAGE_ITEMS, number="WS-PAGE-30")
        pages = {
            "admin order changelist": ("/admin/orders/order/", None),
            f"order page, {ORDER_PAGE_ITEMS} items": (
                f"/admin/orders/order/{order.pk}/change/",
                None,
            ),
            "dashboard": ("/admin/", None),
            # What the first request after each change to orders costs: the live aggregation.
            "dashboard, after an order changed": ("/admin/", VERSION.replace),
        }
        scaling = {name: [] for name in pages}
        bulk_orders(SCALING_ORDERS[0], wines=wines, prefix="WS-DASH")
        for size in SCALING_ORDERS:
            seeded = timed(lambda size=size: orders_grow(size))
            print(f"({size:,} orders and their items, {seeded:.0f} s to grow to)")
            for name, (url, before) in pages.items():
                scaling[name].append(median_get_counted(merchant, url, before))
            if size == DASHBOARD_ORDERS:
                dashboard, count = scaling["dashboard"][-1]
                rows.append(
                    (
                        f"admin dashboard, {size:,} orders ({count} queries)",
                        f"{dashboard * 1000:.1f} ms",
                        f"{dashboard / ping:.2f}",
                    )
                )
        largest = SCALING_ORDERS[-1]
        dashboard, count = scaling["dashboard"][-1]
        rows.append(
            (
                f"admin dashboard, {largest:,} orders ({count} queries)",
                f"{dashboard * 1000:.1f} ms",
                f"{dashboard / ping:.2f}",
            )
        )
    print_scaling(scaling)
    return rows


def main() -> int:
    postgres("DROP DATABASE IF EXISTS {} WITH (FORCE)")
    postgres("CREATE DATABASE {}")
    try:
        setup_django()
        rows = measure()
        from django.db import connections

        connections.close_all()
    finally:
        postgres("DROP DATABASE IF EXISTS {} WITH (FORCE)")
    width = max(len(row[0]) for row in rows)
    print(f"\n{'reports (PostgreSQL, one process)':<{width}}  {'time':>34}  vs baseline")
    for name, figure, ratio in rows:
        print(f"{name:<{width}}  {figure:>34}  {ratio:>11}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
