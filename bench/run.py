"""Benchmark the shop's public pages and Stripe's webhook under gunicorn with wrk, and its
Celery tasks through RabbitMQ; print figures, never assert them.

``make bench`` runs it; bench/README.md says what it measures. Run as ``run.py seed``,
``run.py queries ...``, ``run.py webhooks ...``, ``run.py paid`` or ``run.py tasks ...`` it is
the Django side of the run, in a subprocess with the bench's env.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    BASE_DIR,
    HOUSES,
    THREADS,
    WORKERS,
    BenchError,
    Browser,
    Result,
    free_port,
    reset_postgres,
    run,
    run_script,
    seed_places,
    start_gunicorn,
    stop,
    wait_ready,
    wait_worker,
    wrk,
)
from bench.harness import start_worker as start_celery_worker

WORK_DIR = BASE_DIR / "var" / "bench"
WINES = 10_000
WARMUP_SECONDS = 2
ROUNDS = 3  # alternating runs of the baseline and the wine list; the median counts
SESSIONS = 64  # per add-to-cart run, so that no cart reaches its limit during a run
CART_WINES = 50  # the wines add-to-cart rotates over
# The wine list as a visitor narrows it: one country, and a search.
FILTERED_LIST = "/?country=france"
SEARCHED_LIST = "/?q=chateau"
NAME_WORDS = "Vieilles Vignes Clos Réserve Grand Cru Terroir Colline Sorì Pago Lieu-dit Cuvée"
BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
TASKS = 1_000  # of each kind
TASK_POOL = 2  # pool processes of the one worker
TASK_WARMUP = 20  # no-op tasks that start the pool before anything is timed
TASK_TIMEOUT = 180  # seconds each kind of task may take in all
# The production worker's queues under names of the bench's own: the tests' workers share the
# broker, purge "default", "emails" and "reports", and would take the bench's tasks.
TASK_QUEUES = ("bench.default", "bench.emails", "bench.reports")
WEBHOOK_SECRET = "whsec_bench"  # noqa: S105 - the bench signs its own events with it
# Unique checkout.session.completed events: more than a run sends at ~600/s, so that the list
# is not used up and the duplicate share holds for whatever part of it a run sends.
WEBHOOK_EVENTS = 4_000
WEBHOOK_WARMUP_EVENTS = 300
DUPLICATE_SHARE = 0.3  # of the deliveries: re-sends of an event delivered before

# Each wrk thread runs its own copy; the harness prepends deliveries (body, Stripe-Signature)
# and nthreads. Thread k sends deliveries k, k + nthreads, ...: each request takes the next one,
# and past the end the list starts again (then every delivery is a duplicate).
WEBHOOK_LUA = """
local threads = {}
local counter = 0
applied = 0
duplicate = 0
other = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  nxt = id + 1
end

function request()
  local delivery = deliveries[nxt]
  nxt = nxt + nthreads
  if nxt > #deliveries then nxt = (nxt - 1) % #deliveries + 1 end
  local headers = {
    ["Host"] = wrk.headers["Host"],
    ["Content-Type"] = "application/json",
    ["Stripe-Signature"] = delivery[2],
  }
  return wrk.format("POST", "/payment/webhook/", headers, delivery[1])
end

function response(status, headers, body)
  if status ~= 200 then
    other = other + 1
  elseif body == "Duplicate." then
    duplicate = duplicate + 1
  elseif body == "Applied" then
    applied = applied + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local a, d, o = 0, 0, 0
  for _, thread in ipairs(threads) do
    a = a + thread:get("applied")
    d = d + thread:get("duplicate")
    o = o + thread:get("other")
  end
  io.write(string.format("Webhook answers: applied %d, duplicate %d, other %d\\n", a, d, o))
end
"""

# Each wrk thread runs its own copy; the harness prepends wine_ids, sessions and csrftoken.
ADD_TO_CART_LUA = """
local threads = {}
refused = 0

function setup(thread)
  table.insert(threads, thread)
end

function request()
  local headers = {
    ["Host"] = wrk.headers["Host"],
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. csrftoken .. "; sessionid=" .. sessions[math.random(#sessions)],
    ["X-CSRFToken"] = csrftoken,
  }
  local path = "/cart/add/" .. wine_ids[math.random(#wine_ids)] .. "/"
  return wrk.format("POST", path, headers, "quantity=1")
end

function response(status, headers, body)
  -- A refused add still redirects (to the wine), so tell it from a success by where it goes.
  if status == 302 and not string.find(headers["Location"] or "", "/cart/$") then
    refused = refused + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("refused") end
  io.write(string.format("Refused adds: %d\\n", total))
end
"""


@dataclass
class TaskResult:
    task: str
    count: int
    done: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0


# --- The Django side (run in a subprocess) ---------------------------------------------------


def seed() -> dict:
    """Create the catalog and the empty cart sessions; return what the requests need."""
    import random
    from decimal import Decimal
    from importlib import import_module

    from django.conf import settings
    from django.utils.text import slugify

    from shop.models import Category, Region, Wine, wine_search_text_refresh

    rng = random.Random(2025)
    seed_places(("North", "South", "Coast", "Hills"))
    category_ids = list(Category.objects.values_list("id", flat=True))
    regions = list(Region.objects.values_list("id", "country_id"))
    words = NAME_WORDS.split()
    producers = [f"{rng.choice(HOUSES)} {rng.choice(words)} {n}" for n in range(40)]
    wines = []
    for i in range(WINES):
        region_id, country_id = rng.choice(regions)
        name = f"{rng.choice(words)} {rng.choice(words)} {i:05d}"
        wines.append(
            Wine(
                sku=f"B{i:05d}",
                name=name,
                slug=slugify(name),
                producer=rng.choice(producers),
                vintage=rng.choice([None, *range(1995, 2024)]),
                category_id=rng.choice(category_ids),
                country_id=country_id,
                region_id=region_id if rng.random() < 0.9 else None,
                price=Decimal(rng.randrange(600, 25_000)).scaleb(-2),
                stock=1000,
                available=True,
            )
        )
    Wine.objects.bulk_create(wines, batch_size=1000)
    wine_search_text_refresh(Wine.objects.all())
    store = import_module(settings.SESSION_ENGINE).SessionStore
    sessions = []
    for _ in range(2 * SESSIONS):  # one set for the warm-up, one for the measurement
        session = store()
        session.create()
        sessions.append(session.session_key)
    ids = list(Wine.objects.order_by("id").values_list("id", flat=True))
    return {
        "slug": Wine.objects.get(sku=f"B{WINES // 2:05d}").slug,
        "wine_ids": ids[:: WINES // CART_WINES],
        "sessions": sessions,
    }


def count_queries(slug: str, wine_ids: str) -> dict:
    """Return each page's (warm, cold) query counts; cold is the first request on a clear cache."""
    from itertools import cycle

    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    ids = cycle(wine_ids.split(","))

    def client(*, cart_wines: int = 0) -> Client:
        browser = Client(HTTP_HOST="127.0.0.1")
        browser.session  # noqa: B018 - creates an empty session, as the wrk runs use
        for _ in range(cart_wines):
            browser.post(f"/cart/add/{next(ids)}/", {"quantity": 1})
        browser.cookies.pop("messages", None)
        return browser

    def measure(request) -> tuple[int, int]:
        cache.clear()
        counts = []
        for _ in range(2):
            with CaptureQueriesContext(connection) as queries:
                response = request()
            if response.status_code not in (200, 302):
                raise BenchError(f"{response.request['PATH_INFO']}: {response.status_code}")
            counts.append(len(queries))
        return counts[1], counts[0]

    anonymous, shopper, customer = Client(HTTP_HOST="127.0.0.1"), client(), client(cart_wines=4)
    return {
        "ping": measure(lambda: anonymous.get("/ping/")),
        "list": measure(lambda: anonymous.get("/")),
        "detail": measure(lambda: anonymous.get(f"/wine/{slug}/")),
        "filtered": measure(lambda: anonymous.get(FILTERED_LIST)),
        "search": measure(lambda: anonymous.get(SEARCHED_LIST)),
        "add": measure(lambda: shopper.post(f"/cart/add/{next(ids)}/", {"quantity": 1})),
        "cart": measure(lambda: customer.get("/cart/")),
    }


def bulk_orders(prefix: str, numbers: range, price, quantity: int) -> list:
    """Create pending orders of one item each, numbered f"{prefix}-{n:04d}", in bulk."""
    from django.conf import settings

    from orders.models import Order, OrderItem

    orders = Order.objects.bulk_create(
        (
            Order(
                number=f"{prefix}-{n:04d}",
                first_name="Bench",
                last_name=f"Customer {n}",
                email=f"{prefix.lower()}{n}@bench.example.com",
                address="1 Rue du Banc",
                postal_code="75001",
                city="Paris",
                currency=settings.SHOP_CURRENCY,
                vat_rate=settings.VAT_RATE,
                subtotal=price * quantity,
                total=price * quantity,
                stripe_session_id=f"cs_bench_{prefix.lower()}_{n:04d}",
            )
            for n in numbers
        ),
        batch_size=500,
    )
    OrderItem.objects.bulk_create(
        (
            OrderItem(
                order=order,
                sku="B00000",
                wine_name="Clos Réserve",
                vintage=2019,
                unit_price=price,
                quantity=quantity,
                line_total=price * quantity,
            )
            for order in orders
        ),
        batch_size=500,
    )
    return orders


def create_orders(count: int) -> list[int]:
    """Create orders of one item that each owe a confirmation email; return the emails' ids."""
    from decimal import Decimal

    from orders.models import OrderEmail

    orders = bulk_orders("WS-BNCH", range(count), Decimal("18.50"), 2)
    emails = OrderEmail.objects.bulk_create(
        (OrderEmail(order=order, kind=OrderEmail.Kind.CONFIRMATION) for order in orders),
        batch_size=500,
    )
    return [email.pk for email in emails]


def started(app, hostname: str, task: str) -> int | None:
    """Return how many `task` tasks the worker has handed to its pool; None if it is silent."""
    stats = app.control.inspect(destination=[hostname], timeout=1).stats() or {}
    return stats[hostname]["total"].get(task, 0) if hostname in stats else None


def run_noops(app, hostname: str, count: int) -> tuple[int, float]:
    """Send `count` no-op tasks; return how many ran and the seconds until the last one did."""
    from backoffice.tasks import noop

    before = started(app, hostname, noop.name)
    if before is None:
        raise BenchError(f"the worker {hostname} did not answer")
    start = last = time.time()
    for _ in range(count):
        noop.apply_async(queue="bench.default")
    done = 0
    # No-op tasks leave no trace but the worker's own count, which grows as the pool starts
    # each one; a no-op ends as soon as it starts.
    while done < count and time.time() < start + TASK_TIMEOUT:
        time.sleep(0.05)
        total = started(app, hostname, noop.name)
        if total is not None and total - before > done:
            done, last = total - before, time.time()
    return done, last - start


def run_emails(email_ids: list[int]) -> tuple[int, float]:
    """Queue the emails; return how many were sent and the seconds until the last one was."""
    from django.db.models import Count, Max

    from orders.models import OrderEmail
    from orders.tasks import order_email_send

    start = time.time()
    for email_id in email_ids:
        order_email_send.apply_async(args=[email_id], queue="bench.emails")
    done, last = 0, None
    while done < len(email_ids) and time.time() < start + TASK_TIMEOUT:
        time.sleep(0.2)
        sent = OrderEmail.objects.filter(pk__in=email_ids)
        sent = sent.aggregate(done=Count("sent_at"), last=Max("sent_at"))
        done, last = sent["done"], sent["last"]
    return done, last.timestamp() - start if last else 0.0


def run_tasks(count: str, hostname: str) -> dict:
    """Time `count` no-op tasks, then `count` confirmation emails, through the worker."""
    from backoffice.celery import app

    email_ids = create_orders(int(count))
    run_noops(app, hostname, TASK_WARMUP)
    return {
        "no-op": run_noops(app, hostname, int(count)),
        "order confirmation email": run_emails(email_ids),
    }


def webhook_deliveries(count: str, start: str, seed: str) -> list[list[str]]:
    """Create `count` pending orders of one item; return signed checkout.session.completed
    deliveries for them, DUPLICATE_SHARE of which re-send an event delivered earlier in the list.

    Signed now: Stripe's tolerance is 300 s, so run this right before the deliveries are sent.
    """
    import random
    from decimal import Decimal

    from payments.tests.factories import checkout_session, event, signed

    count, start, rng = int(count), int(start), random.Random(int(seed))
    orders = bulk_orders("WS-HOOK", range(start, start + count), Decimal("23.40"), 3)
    unique = []
    for order in orders:
        session = checkout_session(order, id=order.stripe_session_id)
        body, headers = signed(event("checkout.session.completed", session))
        unique.append([body, headers["HTTP_STRIPE_SIGNATURE"]])
    rng.shuffle(unique)
    # Any stretch of the list holds about DUPLICATE_SHARE re-sends, each after its original.
    deliveries, sent = [], 0
    while sent < len(unique):
        if deliveries and rng.random() < DUPLICATE_SHARE:
            deliveries.append(deliveries[rng.randrange(len(deliveries))])
        else:
            deliveries.append(unique[sent])
            sent += 1
    return deliveries


def count_paid() -> dict:
    """Return how many of the webhook bench's orders are paid, and how many were paid twice."""
    from django.db.models import Count, Q

    from orders.models import Order

    orders = Order.objects.filter(number__startswith="WS-HOOK-")
    paid_events = Count("events", filter=Q(events__to_status=Order.Status.PAID))
    twice = orders.annotate(paid_events=paid_events).filter(paid_events__gt=1).count()
    return {
        "orders": orders.count(),
        "paid": orders.filter(status=Order.Status.PAID).count(),
        "paid_twice": twice,
        "flagged": orders.filter(payment_flagged=True).count(),
    }


def django_main(command: str, *args: str) -> None:
    import django

    django.setup()
    commands = {"seed": seed, "queries": count_queries, "tasks": run_tasks}
    commands |= {"webhooks": webhook_deliveries, "paid": count_paid}
    from bench.coupon_codes import generate_coupons

    commands |= {"coupons": generate_coupons}
    print(json.dumps(commands[command](*args)))


# --- The driver ------------------------------------------------------------------------------


def start_worker(env: dict, hostname: str, log):
    return start_celery_worker(env, hostname, log, queues=TASK_QUEUES, pool=TASK_POOL)


def django(env: dict, *args: str, timeout: float = 300) -> dict:
    return json.loads(run([sys.executable, __file__, *args], env, timeout=timeout).splitlines()[-1])


def bench_env() -> tuple[dict, str]:
    """Return the environment of every subprocess, with a fresh database and cache."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("BENCH_DATABASE_URL")
    if database_url:
        reset_postgres(database_url)
    else:
        for path in WORK_DIR.glob("db.sqlite3*"):
            path.unlink()
        database_url = f"sqlite:///{WORK_DIR / 'db.sqlite3'}"
    # The paid webhook queues an email: the web part's gunicorn publishes it to a folder of the
    # bench's own that no worker reads, never to the dev broker's.
    broker_dir = WORK_DIR / "broker"
    shutil.rmtree(broker_dir, ignore_errors=True)
    for folder in ("messages", "control"):
        (broker_dir / folder).mkdir(parents=True)
    cache_url = os.environ.get("BENCH_CACHE_URL")
    if not cache_url:
        shutil.rmtree(WORK_DIR / "cache", ignore_errors=True)
        cache_url = f"filecache://{WORK_DIR / 'cache'}"
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "DATABASE_URL": database_url,
        "CACHE_URL": cache_url,
        "STATIC_ROOT": str(WORK_DIR / "static"),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-only-key",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        # wrk speaks plain HTTP to gunicorn, with no TLS proxy in front to redirect to.
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_BROKER_DIR": str(broker_dir),
    }
    database = "SQLite" if database_url.startswith("sqlite") else "PostgreSQL"
    cache = cache_url.split(":")[0].removesuffix("cache").replace("redis", "Redis") or "file"
    return env, f"{database}, {cache} cache"


def open_queues(url: str) -> str | None:
    """Declare the bench's queues as Celery does and empty them.

    Return why the task benchmark can't run: the broker does not answer, or another worker (a
    concurrent bench's) consumes the queues.
    """
    from kombu import Connection
    from kombu.exceptions import OperationalError

    with Connection(url, connect_timeout=2) as conn:
        try:
            channel = conn.default_channel
            for queue in TASK_QUEUES:
                declared = channel.queue_declare(queue=queue, durable=True, auto_delete=False)
                if declared.consumer_count:
                    return f"another worker consumes {queue} at {conn.as_uri()}"
                channel.queue_purge(queue)
        except (OperationalError, *conn.connection_errors) as error:
            return f"the broker at {conn.as_uri()} does not answer ({error})"
        except conn.channel_errors as error:
            return f"the broker at {conn.as_uri()} refused ({type(error).__name__}: {error})"
    return None


def drop_queues(url: str) -> None:
    """Delete the bench's queues and the exchanges Celery made for them, tasks left included."""
    from kombu import Connection
    from kombu.exceptions import OperationalError

    with Connection(url, connect_timeout=2) as conn:
        try:
            channel = conn.default_channel
            for name in TASK_QUEUES:
                channel.queue_delete(name)
                channel.exchange_delete(name)
        except (OperationalError, *conn.connection_errors, *conn.channel_errors):
            pass  # the broker went away: the next run empties the queues before it starts


def lua_script(directory: str, name: str, wine_ids: list, sessions: list, token: str) -> str:
    path = Path(directory) / f"{name}.lua"
    keys = ", ".join(f'"{key}"' for key in sessions)
    head = f"wine_ids = {{{', '.join(map(str, wine_ids))}}}\nsessions = {{{keys}}}\n"
    path.write_text(f'{head}csrftoken = "{token}"\n{ADD_TO_CART_LUA}')
    return str(path)


def webhook_script(directory: str, name: str, deliveries: list) -> str:
    def quote(text: str) -> str:
        if "]==]" in text:
            raise BenchError("a webhook body holds ]==]")
        return f"[==[{text}]==]"

    rows = ",\n".join(f"{{{quote(body)}, {quote(header)}}}" for body, header in deliveries)
    path = Path(directory) / f"{name}.lua"
    path.write_text(f"nthreads = {THREADS}\ndeliveries = {{\n{rows}\n}}\n{WEBHOOK_LUA}")
    return str(path)


def measure_webhooks(env: dict, port: int, seconds: int, connections: int) -> Result:
    """Sign deliveries for fresh orders, then send them to the running gunicorn with wrk."""
    print(f"bench: webhook, {WEBHOOK_EVENTS:,} events signed", file=sys.stderr)
    warm = django(env, "webhooks", str(WEBHOOK_WARMUP_EVENTS), str(WEBHOOK_EVENTS), "1")
    deliveries = django(env, "webhooks", str(WEBHOOK_EVENTS), "0", "2")
    url = f"http://127.0.0.1:{port}/payment/webhook/"
    with tempfile.TemporaryDirectory() as tmp:
        warm_script = ("-s", webhook_script(tmp, "warm", warm))
        run_script = ("-s", webhook_script(tmp, "run", deliveries))
        wrk("webhook", url, WARMUP_SECONDS, connections, *warm_script)
        result = wrk("webhook", url, seconds, connections, *run_script)
    result.page = "stripe webhook"
    return result


def measure(port: int, data: dict, seconds: int, connections: int) -> list[Result]:
    """Return the wrk figures of each page, in the order of the table."""
    browser = Browser(port)
    for path in ("/", f"/wine/{data['slug']}/"):
        status, _ = browser.request("GET", path)
        if status != 200:
            raise BenchError(f"GET {path} answered {status}")
    if "csrftoken" not in browser.cookies:
        raise BenchError("the wine page set no csrftoken cookie")
    for wine_id in data["wine_ids"][:4]:
        browser.add_to_cart(wine_id)
    cart_cookie = ("-H", f"Cookie: sessionid={browser.cookies['sessionid']}")
    token, ids, sessions = browser.cookies["csrftoken"], data["wine_ids"], data["sessions"]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        # Fresh, empty carts for the warm-up and again for the measurement.
        add_warm = ("-s", lua_script(tmp, "warm", ids, sessions[:SESSIONS], token))
        add_run = ("-s", lua_script(tmp, "run", ids, sessions[SESSIONS:], token))
        pages = [
            ("trivial /ping/", "/ping/", (), ()),
            ("wine list", "/", (), ()),
            ("wine detail", f"/wine/{data['slug']}/", (), ()),
            ("list, filtered", FILTERED_LIST, (), ()),
            ("list, search", SEARCHED_LIST, (), ()),
            ("add to cart", "/cart/add/", add_warm, add_run),
            ("cart page", "/cart/", cart_cookie, cart_cookie),
        ]
        # The baseline and the wine list alternate for several rounds and each keeps its median
        # run, so that a passing load on the machine weighs on both alike.
        rounds: dict[str, list[Result]] = {page: [] for page, *_ in pages[:2]}
        for round_number in range(ROUNDS):
            for page, path, warm, extra in pages[:2]:
                print(f"bench: {page} (round {round_number + 1} of {ROUNDS})", file=sys.stderr)
                url = f"http://127.0.0.1:{port}{path}"
                if not round_number:
                    wrk(page, url, WARMUP_SECONDS, connections, *warm)
                rounds[page].append(wrk(page, url, seconds, connections, *extra))
        results = [sorted(runs, key=lambda r: r.rps)[len(runs) // 2] for runs in rounds.values()]
        for page, path, warm, extra in pages[2:]:
            print(f"bench: {page}", file=sys.stderr)
            url = f"http://127.0.0.1:{port}{path}"
            wrk(page, url, WARMUP_SECONDS, connections, *warm)
            results.append(wrk(page, url, seconds, connections, *extra))
    return results


def report(results: list[Result], queries: dict, title: str) -> None:
    print(title)
    print(f"{'page':<16}{'req/s':>8}{'p50 ms':>10}{'p99 ms':>9}{'vs trivial':>13}", end="")
    print(f"{'errors':>9}   queries (cold)")
    trivial = results[0].rps
    for result, (warm, cold) in zip(results, queries.values(), strict=True):
        ratio = result.rps / trivial if trivial else float("nan")
        print(f"{result.page:<16}{result.rps:>8.1f}{result.p50:>10.1f}{result.p99:>9.1f}", end="")
        print(f"{ratio:>13.2f}{result.errors:>9}   {warm} ({cold})")
    add = next(r for r in results if r.page == "add to cart")
    print(f"add to cart: {add.refused:,} of {add.requests:,} adds refused by the cart's limit.")
    ratio = results[1].rps / trivial if trivial else 0
    verdict = "reached" if ratio >= 0.5 else "did not reach"
    print(f"The wine list {verdict} half of the trivial view's throughput ({ratio:.2f}).")


def report_webhooks(result: Result, trivial: float, paid: dict) -> None:
    print()
    print(f"{'webhook':<16}{'req/s':>8}{'p50 ms':>10}{'p99 ms':>9}{'vs trivial':>13}", end="")
    print(f"{'errors':>9}   duplicates")
    ratio = result.rps / trivial if trivial else float("nan")
    applied, duplicate, other = result.answers
    share = duplicate / (applied + duplicate) if applied + duplicate else 0.0
    print(f"{result.page:<16}{result.rps:>8.1f}{result.p50:>10.1f}{result.p99:>9.1f}", end="")
    print(f"{ratio:>13.2f}{result.errors:>9}   {share:.0%}")
    print(
        f"stripe webhook: signed checkout.session.completed, {DUPLICATE_SHARE:.0%} re-sends; "
        f"the run's answers: {applied:,} applied, {duplicate:,} duplicate, {other:,} other."
    )
    print(
        f"paid: {paid['paid']:,} of {paid['orders']:,}, paid twice: {paid['paid_twice']}, "
        f"flagged: {paid['flagged']} (the unpaid orders' events were not sent)."
    )


def report_tasks(results: list[TaskResult], mails: int, title: str) -> None:
    print(title)
    print(f"{'task':<28}{'count':>5}{'seconds':>10}{'tasks/s':>10}{'vs no-op':>11}", end="")
    print(f"{'not done':>11}")
    baseline = results[0].rate
    for result in results:
        ratio = result.rate / baseline if baseline else float("nan")
        print(f"{result.task:<28}{result.count:>5}{result.seconds:>10.2f}", end="")
        print(f"{result.rate:>10.1f}{ratio:>11.2f}{result.count - result.done:>11}")
    print(f"The worker wrote {mails:,} emails to var/bench/mail/.")


def bench_tasks(env: dict, backends: str) -> None:
    url = os.environ.get("BENCH_BROKER_URL", BROKER_URL)
    problem = open_queues(url)
    if problem:
        print(f"Tasks: skipped, {problem}.")
        return
    mail_dir = WORK_DIR / "mail"
    shutil.rmtree(mail_dir, ignore_errors=True)
    mail_dir.mkdir(parents=True)
    env = env | {
        "CELERY_BROKER_URL": url,
        "EMAIL_URL": "filemail://",
        "EMAIL_FILE_PATH": str(mail_dir),
        "DJANGO_DEBUG": "0",
    }
    hostname = f"bench-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
    log_path = WORK_DIR / "worker.log"
    print(f"bench: {TASKS:,} no-op tasks, then {TASKS:,} emails", file=sys.stderr)
    with log_path.open("w") as log:
        worker = start_worker(env, hostname, log)
        try:
            wait_worker(worker, url, hostname)
            figures = django(env, "tasks", str(TASKS), hostname, timeout=2 * TASK_TIMEOUT + 120)
        except BenchError as error:
            raise BenchError(f"{error}\n--- {log_path}:\n{log_path.read_text()[-3000:]}") from None
        finally:
            stop(worker)
            drop_queues(url)
    report_tasks(
        [TaskResult(task, TASKS, done, seconds) for task, (done, seconds) in figures.items()],
        sum(path.read_text("utf-8").count("\nMessage-ID: ") for path in mail_dir.iterdir()),
        f"Tasks — 1 worker process × {TASK_POOL} pool processes, RabbitMQ, {backends}, "
        f"{TASKS:,} tasks of each kind",
    )


def bench_web(env: dict, backends: str, seconds: int, connections: int) -> None:
    print("bench: collectstatic", file=sys.stderr)
    run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], env, timeout=300)
    print(f"bench: seeding {WINES:,} wines", file=sys.stderr)
    data = django(env, "seed")
    queries = django(env, "queries", data["slug"], ",".join(map(str, data["wine_ids"])))
    port = free_port()
    log_path = WORK_DIR / "gunicorn.log"
    with log_path.open("w") as log:
        server = start_gunicorn(env, port, log)
        try:
            wait_ready(server, port)
            results = measure(port, data, seconds, connections)
            webhook = measure_webhooks(env, port, seconds, connections)
        except BenchError as error:
            raise BenchError(f"{error}\n--- {log_path}:\n{log_path.read_text()[-3000:]}") from None
        finally:
            stop(server)
    report(
        results,
        queries,
        f"Wine-Shop benchmark — gunicorn {WORKERS} workers, {backends}, {WINES:,} wines, "
        f"wrk {min(THREADS, connections)} threads {connections} connections {seconds} s per run "
        f"(baseline and wine list: median of {ROUNDS} alternating runs)",
    )
    report_webhooks(webhook, results[0].rps, django(env, "paid"))


def bench_coupons(env: dict, backends: str) -> None:
    figures = django(env, "coupons", timeout=600)
    ratio = figures["batch"] / figures["plain"]
    unique = all(d == figures["codes"] for d in figures["made"] + figures["distinct"])
    print(f"Coupon generation ({backends}), median of {len(figures['made'])} alternating runs")
    print(f"{'run':28} {'codes':>8} {'seconds':>9} {'codes/s':>9} {'vs plain':>9}")
    for name, seconds in [("plain bulk_create", figures["plain"]), ("batch", figures["batch"])]:
        rate = figures["codes"] / seconds
        print(
            f"{name:28} {figures['codes']:>8,} {seconds:>9.2f} {rate:>9,.0f} "
            f"{seconds / figures['plain']:>9.2f}"
        )
    verdict = "within" if ratio <= 2 else "outside"
    print(
        f"Every batch made {figures['codes']:,} distinct codes: {'yes' if unique else 'NO'}. "
        f"The batch took {ratio:.2f}x the plain insert ({verdict} the 2x target)."
    )


# Parts that run alone with BENCH_ONLY=<part>; a plain `make bench` runs them all in this order.
PARTS = ("web", "coupons", "tasks", "reports", "imports", "catalog")


def bench_script(name: str) -> None:
    """Run one of the benchmarks that set up a PostgreSQL database of their own."""
    print(f"bench: {name}", file=sys.stderr)
    done = subprocess.run([sys.executable, str(BASE_DIR / "bench" / f"{name}.py")], cwd=BASE_DIR)
    if done.returncode != 0:
        raise BenchError(f"bench/{name}.py failed")


def main() -> int:
    seconds = int(os.environ.get("BENCH_SECONDS", 8))
    connections = int(os.environ.get("BENCH_CONNECTIONS", 32))
    only = os.environ.get("BENCH_ONLY", "")
    if only and only not in PARTS:
        raise BenchError(f"BENCH_ONLY={only}: the parts that run alone are {', '.join(PARTS)}")
    parts = [only] if only else list(PARTS)
    if "web" in parts and not shutil.which("wrk"):
        raise BenchError("wrk is not installed (apt-get install wrk)")
    if {"web", "coupons", "tasks"} & set(parts):
        env, backends = bench_env()
        print("bench: migrate", file=sys.stderr)
        run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env, timeout=300)
    for part in parts:
        if part == "web":
            bench_web(env, backends, seconds, connections)
        elif part == "coupons":
            bench_coupons(env, backends)
        elif part == "tasks":
            bench_tasks(env, backends)
        else:
            bench_script(part)
        print()
    return 0


if __name__ == "__main__":
    run_script("bench", main, django_main, failed=1)
