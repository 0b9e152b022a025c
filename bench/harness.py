"""What the benchmark and the drills share: subprocesses run and stopped by process group, a
fresh PostgreSQL database, a cookie-keeping client, gunicorn, a Celery worker and wrk."""

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
WORKERS = 2  # gunicorn's sync workers, as in production
THREADS = 2  # wrk's threads: one per core
# The catalog's names in every benchmark and drill: 6 categories, 15 countries.
CATEGORIES = ["Red", "White", "Rosé", "Sparkling", "Sweet", "Fortified"]
COUNTRIES = ["France", "Italy", "Spain", "Portugal", "Germany", "Austria", "Greece", "Hungary"]
COUNTRIES += ["USA", "Chile", "Argentina", "South Africa", "Australia", "New Zealand", "Lebanon"]
HOUSES = ["Domaine", "Château", "Bodega", "Weingut", "Tenuta", "Quinta"]


class BenchError(Exception):
    pass


@dataclass
class Result:
    page: str
    rps: float
    p50: float
    p99: float
    requests: int
    errors: int
    refused: int = 0
    answers: tuple[int, int, int] = (0, 0, 0)  # webhook: received, duplicate, other
    output: str = ""  # what wrk printed, the Lua script's own lines included


def run(args: list[str], env: dict, *, timeout: float) -> str:
    try:
        done = subprocess.run(
            args, env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"{' '.join(args[:3])} ran over {timeout:.0f} s") from None
    if done.returncode != 0:
        raise BenchError(f"{' '.join(args[:3])} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return done.stdout


def postgres(url: str, *, dbname: str | None = None):
    """Return an autocommit connection to the database of a DATABASE_URL (or to `dbname` on
    the same server)."""
    import environ
    import psycopg

    config = environ.Env.db_url_config(url)
    params = {"host": config["HOST"], "port": config["PORT"], "user": config["USER"]}
    params = {k: v for k, v in {**params, "password": config["PASSWORD"]}.items() if v}
    return psycopg.connect(dbname=dbname or config["NAME"], autocommit=True, **params)


def database_name(url: str) -> str:
    import environ

    return environ.Env.db_url_config(url)["NAME"]


def reset_postgres(url: str, *, marker: str = "bench") -> None:
    """Drop and create the database of `url`, whose name must contain `marker`."""
    from psycopg import sql

    if marker not in database_name(url):
        raise BenchError(
            f"{database_name(url)} is dropped each run: its name must contain {marker!r}"
        )
    with postgres(url, dbname="postgres") as conn:
        name = sql.Identifier(database_name(url))
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


class Browser:
    """Just enough of a browser to get a CSRF token and fill a cart: it keeps cookies."""

    def __init__(self, port: int):
        self.port = port
        self.cookies = {}

    def request(self, method: str, path: str, body: str | None = None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.coded_value
                else:
                    self.cookies.pop(name, None)
        return response.status, response.headers.get("Location", "")

    def add_to_cart(self, wine_id: int) -> None:
        token = self.cookies["csrftoken"]
        content_type = {"Content-Type": "application/x-www-form-urlencoded"}
        headers = {**content_type, "X-CSRFToken": token}
        status, location = self.request("POST", f"/cart/add/{wine_id}/", "quantity=1", headers)
        if (status, location) != (302, "/cart/"):
            raise BenchError(f"add to cart answered {status} {location}")


def start_gunicorn(env: dict, port: int, log) -> subprocess.Popen:
    args = [sys.executable, "-m", "gunicorn", "backoffice.wsgi:application"]
    args += ["--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}", "--chdir", str(BASE_DIR)]
    # The control socket's path is shared by every gunicorn of the user, a dev server's too.
    args += ["--no-control-socket"]
    # Its own session: Ctrl-C reaches the harness only, which then stops the whole group.
    return subprocess.Popen(args, env=env, stdout=log, stderr=log, start_new_session=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def wait_ready(server: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError("gunicorn exited at start")
        try:
            if Browser(port).request("GET", "/ping/")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise BenchError("gunicorn did not answer /ping/ within 30 s")


def start_worker(
    env: dict, hostname: str, log, *, queues: tuple[str, ...], pool: int
) -> subprocess.Popen:
    args = [sys.executable, "-m", "celery", "--app", "backoffice", "worker"]
    args += ["--hostname", hostname, "--queues", ",".join(queues)]
    args += ["--concurrency", str(pool), "--without-gossip", "--without-mingle"]
    args += ["--loglevel", "WARNING"]
    # Its own session, as gunicorn's: stop() ends the worker and its pool together.
    return subprocess.Popen(
        args, env=env, cwd=BASE_DIR, stdout=log, stderr=log, start_new_session=True
    )


def wait_worker(worker: subprocess.Popen, url: str, hostname: str) -> None:
    from celery import Celery

    # Pinging needs no Django: a bare app on the same broker reaches the worker's mailbox.
    with Celery(broker=url) as app:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                raise BenchError("the Celery worker exited at start")
            if app.control.ping(destination=[hostname], timeout=0.5):
                return
    raise BenchError("the Celery worker did not answer a ping within 60 s")


def to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def wrk(page: str, url: str, seconds: int, connections: int, *extra: str) -> Result:
    """Run wrk and read its figures; `extra` passes a Lua script (-s) or headers (-H)."""
    args = ["wrk", f"-t{min(THREADS, connections)}", f"-c{connections}", f"-d{seconds}s"]
    out = run([*args, "--latency", *extra, url], os.environ, timeout=seconds + 60)

    def number(pattern: str) -> list[str]:
        match = re.search(pattern, out)
        return list(match.groups()) if match else []

    errors = sum(map(int, number(r"Non-2xx or 3xx responses: (\d+)") or [0]))
    errors += sum(
        map(int, number(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"))
    )
    return Result(
        page,
        rps=float(number(r"Requests/sec:\s+([\d.]+)")[0]),
        p50=to_ms(*number(r"50%\s+([\d.]+)(us|ms|s|m)\b")),
        p99=to_ms(*number(r"99%\s+([\d.]+)(us|ms|s|m)\b")),
        requests=int(number(r"(\d+) requests in")[0]),
        errors=errors,
        refused=int((number(r"Refused adds: (\d+)") or [0])[0]),
        answers=tuple(map(int, number(r"received (\d+), duplicate (\d+), other (\d+)") or [0] * 3)),
        output=out,
    )


def run_script(name: str, main, django_main, *, failed: int) -> None:
    """Run a bench script: with arguments it is the Django side of a run (if it has one),
    without the driver.

    The driver exits with main()'s status, `failed` when something failed to run.
    """
    if django_main and len(sys.argv) > 1:
        django_main(*sys.argv[1:])
        sys.exit(0)
    # A plain kill should clean up like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"{name}: {error}", file=sys.stderr)
        sys.exit(failed)
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        sys.exit(130)


def seed_places(parts: tuple[str, ...]) -> None:
    """Create the categories, the countries and one region of each country per part."""
    from django.utils.text import slugify

    from shop.models import Category, Country, Region

    Category.objects.bulk_create([Category(name=n, slug=slugify(n)) for n in CATEGORIES])
    Country.objects.bulk_create([Country(name=n, slug=slugify(n)) for n in COUNTRIES])
    Region.objects.bulk_create(
        Region(country=country, name=f"{country.name} {part}", slug=slugify(f"{country} {part}"))
        for country in Country.objects.all()
        for part in parts
    )


def random_wines(rng, numbers: range, *, sku: str, words: list[str], producers: int, stock=None):
    """Return unsaved wines numbered `numbers` over the categories and regions there are: SKU
    and name suffix `sku % number` (e.g. "B%05d"), names and `producers` producers from `words`,
    a random price and vintage, 10 % without a region. `stock(rng)` gives each wine its stock
    and whether it is for sale (1,000 bottles, all for sale, when None)."""
    from decimal import Decimal

    from django.utils.text import slugify

    from shop.models import Category, Region, Wine

    categories = list(Category.objects.values_list("id", flat=True))
    regions = list(Region.objects.values_list("id", "country_id"))
    houses = [f"{rng.choice(HOUSES)} {rng.choice(words)} {n}" for n in range(producers)]
    wines = []
    for i in numbers:
        region_id, country_id = rng.choice(regions)
        code = sku % i
        name = f"{rng.choice(words)} {rng.choice(words)} {code[1:]}"
        bottles, available = stock(rng) if stock else (1000, True)
        wines.append(
            Wine(
                sku=code,
                name=name,
                slug=slugify(name),
                producer=rng.choice(houses),
                vintage=rng.choice([None, *range(1995, 2024)]),
                category_id=rng.choice(categories),
                country_id=country_id,
                region_id=region_id if rng.random() < 0.9 else None,
                price=Decimal(rng.randrange(600, 25_000)).scaleb(-2),
                stock=bottles,
                available=available,
            )
        )
    return wines
