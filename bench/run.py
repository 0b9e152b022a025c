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
    THREADS,
    WORKERS,
    BenchError,
    Browser,
    Result,
    free_port,
    postgres,
    random_wines,
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
ROUNDS = 3  # alternating runs of the baseline and the catalog pages; the median counts
ALTERNATING = 5  # the first rows of measure(): /ping/ and the four catalog pages
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
received = 0
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
  elseif body == "Received." then
    received = received + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local a, d, o = 0, 0, 0
  for _, thread in ipairs(threads) do
    a = a + thread:get("received")
    d = d + thread:get("duplicate")
    o = o + thread:get("other")
  end
  io.write(string.format("Webhook answers: received %d, duplicate %d, other %d\\n", a, d, o))
end
"""

# Each wrk thread runs its own copy; the harness prepends paths, sessions and csrftoken. Each
# request posts to a random path of the list with a random session.
SESSION_POST_LUA = """
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
  return wrk.format("POST", paths[math.random(#paths)], headers, "quantity=1")
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


# The baseline of the webhook: a bare POST, no body.
POST_LUA = 'wrk.method = "POST"\n'

# The profiles a plain `make bench` runs, each with a table per part: (name, what it stands for).
PROFILES = {
    "embedded": "the embedded default",
    "production": "production-like",
}
PRODUCTION_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/wineshop_bench_web"
PRODUCTION_CACHE_URL = "redis://127.0.0.1:6379/14"


SESSION_READ = "session read (baseline)"
SESSION_SAVE = "session read+save (baseline)"
ROW_INSERT = "insert one row + commit (baseline)"
TASK_BASELINE = "lock, update, write a file (baseline)"
# The baseline each page is compared with besides /ping/: what the page does at the least.
BASELINES = {"cart page": SESSION_READ, "add to cart": SESSION_SAVE, "stripe webhook": ROW_INSERT}
BASELINES |= {"order confirmation email": TASK_BASELINE}


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
    from importlib import import_module

    from django.conf import settings

    from shop.models import Wine, wine_search_text_refresh

    rng = random.Random(2025)
    seed_places(("North", "South", "Coast", "Hills"))
    wines = random_wines(rng, range(WINES), sku="B%05d", words=NAME_WORDS.split(), producers=40)
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
        "trivial /ping/": measure(lambda: anonymous.get("/ping/")),
        "wine list": measure(lambda: anonymous.get("/")),
        "wine detail": measure(lambda: anonymous.get(f"/wine/{slug}/")),
        "list, filtered": measure(lambda: anonymous.get(FILTERED_LIST)),
        "list, search": measure(lambda: anonymous.get(SEARCHED_LIST)),
        SESSION_READ: measure(lambda: customer.get("/bench/session/read/")),
        "cart page": measure(lambda: customer.get("/cart/")),
        SESSION_SAVE: measure(lambda: shopper.post("/bench/session/save/", {"quantity": 1})),
        "add to cart": measure(lambda: shopper.post(f"/cart/add/{next(ids)}/", {"quantity": 1})),
        ROW_INSERT: measure(lambda: anonymous.post("/bench/row/insert/")),
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


def run_stamping(task, model, field: str, ids: list[int]) -> tuple[int, float]:
    """Queue `task` for each row of `ids` on the emails' queue; return how many rows it stamped
    (`field` set) and the seconds until the last one was."""
    from django.db.models import Count, Max

    start = time.time()
    for pk in ids:
        task.apply_async(args=[pk], queue="bench.emails")
    done, last = 0, None
    while done < len(ids) and time.time() < start + TASK_TIMEOUT:
        time.sleep(0.2)
        stamped = model.objects.filter(pk__in=ids).aggregate(done=Count(field), last=Max(field))
        done, last = stamped["done"], stamped["last"]
    return done, last.timestamp() - start if last else 0.0


def run_tasks(count: str, hostname: str) -> dict:
    """Time `count` no-op tasks, `count` baseline tasks, then `count` confirmation emails,
    through the worker."""
    from backoffice.celery import app
    from backoffice.models import BaselineRow
    from backoffice.tasks import baseline_row_touch
    from orders.models import OrderEmail
    from orders.tasks import order_email_send

    email_ids = create_orders(int(count))
    rows = BaselineRow.objects.bulk_create(BaselineRow() for _ in range(int(count)))
    run_noops(app, hostname, TASK_WARMUP)
    return {
        "no-op": run_noops(app, hostname, int(count)),
        TASK_BASELINE: run_stamping(
            baseline_row_touch, BaselineRow, "touched_at", [row.pk for row in rows]
        ),
        "order confirmation email": run_stamping(
            order_email_send, OrderEmail, "sent_at", email_ids
        ),
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
    """Apply the stored events, as the worker's payment_apply tasks would (no worker reads the
    web part's broker); return how many of the webhook bench's orders are paid, and how many
    were paid twice."""
    from django.db.models import Count, Q
    from django.utils import timezone

    from orders.models import Order
    from payments.services import payment_apply_waiting

    started, applied = time.perf_counter(), 0
    while batch := payment_apply_waiting(received_before=timezone.now(), batch_size=1000):
        applied += batch
    seconds = time.perf_counter() - started

    orders = Order.objects.filter(number__startswith="WS-HOOK-")
    paid_events = Count("events", filter=Q(events__to_status=Order.Status.PAID))
    twice = orders.annotate(paid_events=paid_events).filter(paid_events__gt=1).count()
    return {
        "orders": orders.count(),
        "paid": orders.filter(status=Order.Status.PAID).count(),
        "paid_twice": twice,
        "flagged": orders.filter(payment_flagged=True).count(),
        "applied": applied,
        "apply_seconds": seconds,
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


def bench_env(profile: str) -> tuple[dict, str] | None:
    """Return the environment of every subprocess of a profile, with a fresh database and cache,
    and the line naming its backends; None, after saying why, when its servers do not answer."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    if profile == "production":
        database_url = os.environ.get("BENCH_DATABASE_URL") or PRODUCTION_DATABASE_URL
        cache_url = os.environ.get("BENCH_CACHE_URL") or PRODUCTION_CACHE_URL
        problem = servers_problem(database_url, cache_url)
        if problem:
            print(f"Production-like profile: skipped, {problem}.")
            return None
        reset_postgres(database_url)
    else:
        for path in WORK_DIR.glob("db.sqlite3*"):
            path.unlink()
        database_url = f"sqlite:///{WORK_DIR / 'db.sqlite3'}"
        shutil.rmtree(WORK_DIR / "cache", ignore_errors=True)
        cache_url = f"filecache://{WORK_DIR / 'cache'}"
    # The paid webhook queues an email: the web part's gunicorn publishes it to a folder of the
    # bench's own that no worker reads, never to the dev broker's.
    broker_dir = WORK_DIR / "broker"
    shutil.rmtree(broker_dir, ignore_errors=True)
    for folder in ("messages", "control"):
        (broker_dir / folder).mkdir(parents=True)
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
        "BENCH_BASELINES": "1",
    }
    # Each profile's session engine is the settings' default for its cache.
    env.pop("SESSION_ENGINE", None)
    database = "SQLite" if database_url.startswith("sqlite") else "PostgreSQL"
    cache = cache_url.split(":")[0].removesuffix("cache").replace("redis", "Redis") or "file"
    sessions = "cached_db (core.sessions)" if cache == "Redis" else "db"
    return env, f"{PROFILES[profile]}: {database}, {cache} cache, {sessions} sessions"


def servers_problem(database_url: str, cache_url: str) -> str | None:
    """Return why the production-like profile can't run: PostgreSQL or Redis does not answer."""
    import psycopg
    import redis

    try:
        with postgres(database_url, dbname="postgres"):
            pass
    except psycopg.OperationalError as error:
        return f"PostgreSQL does not answer ({str(error).strip().splitlines()[0]})"
    try:
        redis.Redis.from_url(cache_url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        return f"Redis at {cache_url} does not answer ({error})"
    return None


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


def lua_script(directory: str, name: str, paths: list, sessions: list, token: str) -> str:
    path = Path(directory) / f"{name}.lua"
    keys = ", ".join(f'"{key}"' for key in sessions)
    head = f"paths = {{{', '.join(map(quote_lua, paths))}}}\nsessions = {{{keys}}}\n"
    path.write_text(f'{head}csrftoken = "{token}"\n{SESSION_POST_LUA}')
    return str(path)


def quote_lua(text: str) -> str:
    if "]==]" in text:
        raise BenchError("a Lua string holds ]==]")
    return f"[==[{text}]==]"


def webhook_script(directory: str, name: str, deliveries: list) -> str:
    rows = ",\n".join(f"{{{quote_lua(body)}, {quote_lua(header)}}}" for body, header in deliveries)
    path = Path(directory) / f"{name}.lua"
    path.write_text(f"nthreads = {THREADS}\ndeliveries = {{\n{rows}\n}}\n{WEBHOOK_LUA}")
    return str(path)


def measure_webhooks(env: dict, port: int, seconds: int, connections: int) -> list[Result]:
    """Post empty rows (the baseline), then sign deliveries for fresh orders and send them to the
    running gunicorn with wrk; return both figures."""
    print("bench: insert one row + commit (baseline)", file=sys.stderr)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        post = Path(tmp) / "post.lua"
        post.write_text(POST_LUA)
        url = f"http://127.0.0.1:{port}/bench/row/insert/"
        wrk(ROW_INSERT, url, WARMUP_SECONDS, connections, "-s", str(post))
        results.append(wrk(ROW_INSERT, url, seconds, connections, "-s", str(post)))
    print(f"bench: webhook, {WEBHOOK_EVENTS:,} events signed", file=sys.stderr)
    warm = django(env, "webhooks", str(WEBHOOK_WARMUP_EVENTS), str(WEBHOOK_EVENTS), "1")
    deliveries = django(env, "webhooks", str(WEBHOOK_EVENTS), "0", "2")
    url = f"http://127.0.0.1:{port}/payment/webhook/"
    with tempfile.TemporaryDirectory() as tmp:
        warm_script = ("-s", webhook_script(tmp, "warm", warm))
        run_script = ("-s", webhook_script(tmp, "run", deliveries))
        wrk("webhook", url, WARMUP_SECONDS, connections, *warm_script)
        results.append(wrk("stripe webhook", url, seconds, connections, *run_script))
    return results


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
    token, sessions = browser.cookies["csrftoken"], data["sessions"]
    adds = [f"/cart/add/{wine_id}/" for wine_id in data["wine_ids"]]
    results = []
    with tempfile.TemporaryDirectory() as tmp:

        def posts(paths: list[str]) -> tuple[tuple, tuple]:
            # Fresh, empty carts for the warm-up and again for the measurement.
            name = f"posts{len(list(Path(tmp).iterdir()))}"
            warm = ("-s", lua_script(tmp, f"{name}-warm", paths, sessions[:SESSIONS], token))
            return warm, ("-s", lua_script(tmp, name, paths, sessions[SESSIONS:], token))

        # (row, path, warm-up's wrk options, measurement's wrk options); the pages a baseline
        # stands under follow it.
        pages = [
            ("trivial /ping/", "/ping/", (), ()),
            ("wine list", "/", (), ()),
            ("wine detail", f"/wine/{data['slug']}/", (), ()),
            ("list, filtered", FILTERED_LIST, (), ()),
            ("list, search", SEARCHED_LIST, (), ()),
            (SESSION_READ, "/bench/session/read/", cart_cookie, cart_cookie),
            ("cart page", "/cart/", cart_cookie, cart_cookie),
            (SESSION_SAVE, "/bench/session/save/", *posts(["/bench/session/save/"])),
            ("add to cart", "/cart/add/", *posts(adds)),
        ]
        # The baseline and the catalog pages alternate for several rounds and each keeps its
        # median run, so that a passing load on the machine weighs on them all alike.
        alternating = pages[:ALTERNATING]
        rounds: dict[str, list[Result]] = {page: [] for page, *_ in alternating}
        for round_number in range(ROUNDS):
            for page, path, warm, extra in alternating:
                print(f"bench: {page} (round {round_number + 1} of {ROUNDS})", file=sys.stderr)
                url = f"http://127.0.0.1:{port}{path}"
                if not round_number:
                    wrk(page, url, WARMUP_SECONDS, connections, *warm)
                rounds[page].append(wrk(page, url, seconds, connections, *extra))
        results = [sorted(runs, key=lambda r: r.rps)[len(runs) // 2] for runs in rounds.values()]
        for page, path, warm, extra in pages[ALTERNATING:]:
            print(f"bench: {page}", file=sys.stderr)
            url = f"http://127.0.0.1:{port}{path}"
            wrk(page, url, WARMUP_SECONDS, connections, *warm)
            results.append(wrk(page, url, seconds, connections, *extra))
    return results


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}" if baseline else "-"


def half_of(row: str, rate: float, baseline: str, baseline_rate: float) -> str:
    """Return the line saying whether `row` reached half of its baseline's rate."""
    share = rate / baseline_rate if baseline_rate else 0.0
    verdict = "reached" if share >= 0.5 else "did not reach"
    return f"{row}: {verdict} half of the rate of {baseline} ({share:.2f})."


def report(results: list[Result], queries: dict, title: str) -> None:
    """Print a row per page: its figures, its share of /ping/'s and of its baseline's req/s."""
    print(title)
    print(f"{'page':<36}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'vs trivial':>11}", end="")
    print(f"{'vs baseline':>12}{'errors':>8}   queries (cold)")
    rates = {result.page: result.rps for result in results}
    for result in results:
        warm, cold = queries.get(result.page, ("-", "-"))
        baseline = rates.get(BASELINES.get(result.page, ""), 0)
        print(f"{result.page:<36}{result.rps:>8.1f}{result.p50:>9.1f}{result.p99:>9.1f}", end="")
        print(f"{ratio(result.rps, rates['trivial /ping/']):>11}", end="")
        print(f"{ratio(result.rps, baseline):>12}{result.errors:>8}   {warm} ({cold})")
    add = next(r for r in results if r.page == "add to cart")
    print(f"add to cart: {add.refused:,} of {add.requests:,} adds refused by the cart's limit.")
    for page in ("wine list", *(page for page in BASELINES if page in rates)):
        baseline = BASELINES.get(page, "trivial /ping/")
        print(half_of(page, rates[page], baseline, rates[baseline]))


def report_tasks(results: list[TaskResult], mails: int, title: str) -> None:
    print(title)
    print(f"{'task':<40}{'count':>6}{'seconds':>9}{'tasks/s':>9}{'vs no-op':>10}", end="")
    print(f"{'vs baseline':>12}{'not done':>10}")
    rates = {result.task: result.rate for result in results}
    for result in results:
        baseline = rates.get(BASELINES.get(result.task, ""), 0)
        print(f"{result.task:<40}{result.count:>6}{result.seconds:>9.2f}", end="")
        print(f"{result.rate:>9.1f}{ratio(result.rate, rates['no-op']):>10}", end="")
        print(f"{ratio(result.rate, baseline):>12}{result.count - result.done:>10}")
    email = "order confirmation email"
    print(half_of(email, rates[email], TASK_BASELINE, rates[TASK_BASELINE]))
    print(f"The worker wrote {mails:,} emails to var/bench/mail/.")


def report_webhooks(results: list[Result], trivial: float, paid: dict, queries: dict) -> None:
    print()
    print(f"{'webhook':<36}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'vs trivial':>11}", end="")
    print(f"{'vs baseline':>12}{'errors':>8}   duplicates")
    baseline, result = results
    for row in results:
        share = ratio(row.rps, baseline.rps) if row is result else ""
        print(f"{row.page:<36}{row.rps:>8.1f}{row.p50:>9.1f}{row.p99:>9.1f}", end="")
        print(f"{ratio(row.rps, trivial):>11}{share:>12}{row.errors:>8}", end="")
        applied, duplicate, other = row.answers
        total = applied + duplicate
        print(f"   {duplicate / total:.0%}" if row is result and total else "")
    received, duplicate, other = result.answers
    print(
        f"stripe webhook: signed checkout.session.completed, {DUPLICATE_SHARE:.0%} re-sends; "
        f"the run's answers: {received:,} received, {duplicate:,} duplicate, {other:,} other."
    )
    rate = paid["applied"] / paid["apply_seconds"] if paid["apply_seconds"] else 0
    print(
        f"then payment_apply, the worker's task, applied the {paid['applied']:,} stored events "
        f"in one process: {rate:,.0f} events/s."
    )
    print(
        f"paid: {paid['paid']:,} of {paid['orders']:,}, paid twice: {paid['paid_twice']}, "
        f"flagged: {paid['flagged']} (the unpaid orders' events were not sent)."
    )
    print(half_of(result.page, result.rps, baseline.page, baseline.rps))
    print(f"{baseline.page}: queries per request {queries[baseline.page][0]}.")


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
    print(f"bench: {TASKS:,} no-op, baseline and email tasks", file=sys.stderr)
    with log_path.open("w") as log:
        worker = start_worker(env, hostname, log)
        try:
            wait_worker(worker, url, hostname)
            figures = django(env, "tasks", str(TASKS), hostname, timeout=3 * TASK_TIMEOUT + 120)
        except BenchError as error:
            raise BenchError(f"{error}\n--- {log_path}:\n{log_path.read_text()[-3000:]}") from None
        finally:
            stop(worker)
            drop_queues(url)
    mails = (path.read_text("utf-8") for path in mail_dir.iterdir())
    report_tasks(
        [TaskResult(task, TASKS, done, seconds) for task, (done, seconds) in figures.items()],
        sum(text.count("\nMessage-ID: ") for text in mails),
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
        f"(baseline and catalog pages: median of {ROUNDS} alternating runs)",
    )
    report_webhooks(webhook, results[0].rps, django(env, "paid"), queries)


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
# The parts that run once per profile, on a database and cache of the bench's own; the others
# make PostgreSQL databases of their own.
PROFILED_PARTS = ("web", "coupons", "tasks")


def bench_script(name: str) -> None:
    """Run one of the benchmarks that set up a PostgreSQL database of their own."""
    print(f"bench: {name}", file=sys.stderr)
    done = subprocess.run([sys.executable, str(BASE_DIR / "bench" / f"{name}.py")], cwd=BASE_DIR)
    if done.returncode != 0:
        raise BenchError(f"bench/{name}.py failed")


def bench_profile(profile: str, parts: list[str], seconds: int, connections: int) -> None:
    """Run the profiled parts among `parts` on a fresh database and cache of the profile."""
    made = bench_env(profile)
    if made is None:
        print()
        return
    env, backends = made
    print(f"bench: {profile}: migrate", file=sys.stderr)
    run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env, timeout=300)
    for part in parts:
        if part == "web":
            bench_web(env, backends, seconds, connections)
        elif part == "coupons":
            bench_coupons(env, backends)
        elif part == "tasks":
            bench_tasks(env, backends)
        print()


def main() -> int:
    seconds = int(os.environ.get("BENCH_SECONDS", 8))
    connections = int(os.environ.get("BENCH_CONNECTIONS", 32))
    only = os.environ.get("BENCH_ONLY", "")
    if only and only not in PARTS:
        raise BenchError(f"BENCH_ONLY={only}: the parts that run alone are {', '.join(PARTS)}")
    profiles = os.environ.get("BENCH_PROFILES", "") or ",".join(PROFILES)
    profiles = [name.strip() for name in profiles.split(",") if name.strip()]
    if not profiles or set(profiles) - set(PROFILES):
        raise BenchError(
            f"BENCH_PROFILES={','.join(profiles)}: the profiles are {', '.join(PROFILES)}"
        )
    parts = [only] if only else list(PARTS)
    if "web" in parts and not shutil.which("wrk"):
        raise BenchError("wrk is not installed (make wrk installs it, or apt-get install wrk)")
    profiled = [part for part in parts if part in PROFILED_PARTS]
    if profiled:
        for profile in profiles:
            bench_profile(profile, profiled, seconds, connections)
    for part in parts:
        if part not in PROFILED_PARTS:
            bench_script(part)
            print()
    return 0


if __name__ == "__main__":
    run_script("bench", main, django_main, failed=1)
