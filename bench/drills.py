"""Reliability drills: Wine-Shop under load, faults and hostile input, then the books.

``make drills`` runs it; bench/README.md says how to read its table. It starts gunicorn, a Celery
worker and beat on PostgreSQL, RabbitMQ and a Redis of its own (each of the last two through a
loopback proxy it can take away), loads the shop with wrk while signed Stripe events arrive,
injects faults, fuzzes the public endpoints and checks that nothing was lost or doubled. It stops
everything it started on exit, error or Ctrl-C. Its Django side (seeding, the webhook feed and
storm, the Stripe timeout, the books) is bench/drills_scenarios.py, run in subprocesses with the
drills' environment.

Staff refunds run during the load too: the orders the feed pays are paid at the drills' own
Stripe sandbox (a process of the run, posting its events to the webhook), so that the worker
refunds them there; one is killed while storing a credit note, and refunds asked while the
broker is away are sent by the reconciliation once it is back.
"""

import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.drills_scenarios import (
    CART_WINES,
    FLOOD_DOMAIN,
    SETTLE_TIMEOUT,
    STOCK,
    STORM_THREADS,
    WINES,
)
from bench.harness import (
    BASE_DIR,
    THREADS,
    WORKERS,
    BenchError,
    Browser,
    database_name,
    free_port,
    postgres,
    reset_postgres,
    run,
    run_script,
    start_gunicorn,
    start_worker,
    stop,
    wait_ready,
    wait_worker,
    wrk,
)
from bench.tcpproxy import TcpProxy

WORK_DIR = BASE_DIR / "var" / "drills"
DATABASE_URL = "postgres://postgres@127.0.0.1:5432/wineshop_drills_run"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672"
VHOST = "wineshop_drills"
QUEUES = ("default", "emails", "reports")
WEBHOOK_SECRET = "whsec_drills"  # noqa: S105 - the drills sign their own events with it
SESSIONS_PER_THREAD = 100  # each wrk thread's carts, taken in turn: 4 per connection
WORKER_POOL = 4
MAIL_PAUSE = 0.05  # seconds a send takes, as with an SMTP server: a worker is caught midway
KILL_AT = 8  # seconds into the load: the worker is killed during a send
CREDIT_NOTE_PAUSE = 0.3  # seconds storing a credit note takes: a worker is caught midway
CREDIT_NOTE_KILL_WAIT = 40  # seconds, from the broker's return, for a credit note to be stored
OUTAGE_AT, OUTAGE_SECONDS = 15, 30  # the broker goes away for 30 s during the load
DB_DROP_SECONDS = 10  # traffic while PostgreSQL connections are dropped
DB_DROPS = 3
REDIS_AWAY_SECONDS = 30  # mixed traffic while the shared cache is away
REDIS_BACK_SECONDS = 10  # catalog traffic once it is back: cached pages are served again
# Without the cache every page is rendered, so the 2 sync workers serve fewer requests a second:
# fewer connections than the main load keep wrk's 2 s timeout about answers, not queueing.
REDIS_CONNECTIONS = 10
DRAIN_TIMEOUT = 180  # seconds the worker may take to send what is owed after the faults
FUZZ_PROFILE = "drills"  # conftest.py: more examples than the suite's
# What `make drills` fuzzes: each a list of tests (pytest node ids) that assert no 500 and no
# write from an invalid request. CSV import goes here once it has its own.
SHOP_FUZZ = "shop/tests/test_bad_input.py::test_"
WEBHOOK_FUZZ = "payments/tests/test_webhooks.py::test_"
PAYMENT_PAGES_FUZZ = "payments/tests/test_views.py::test_"
FUZZ_TARGETS = {
    "cart add/update": [
        f"{SHOP_FUZZ}any_quantity_is_answered_and_only_a_valid_one_changes_the_cart",
        f"{SHOP_FUZZ}huge_wine_id_in_url_changes_nothing",
        f"{SHOP_FUZZ}tampered_session_cart_never_breaks_a_page",
    ],
    "catalog filters": [f"{SHOP_FUZZ}any_list_query_is_a_page_or_not_found"],
    "coupon apply/remove": [
        f"{SHOP_FUZZ}any_code_is_answered_and_only_a_valid_one_reaches_the_cart",
        f"{SHOP_FUZZ}removing_a_coupon_with_any_form_leaves_the_cart_without_one",
    ],
    "checkout": [f"{SHOP_FUZZ}checkout_places_an_order_only_when_every_field_is_valid"],
    "webhook bodies and headers": [
        f"{WEBHOOK_FUZZ}webhook_refuses_what_stripe_did_not_sign_and_writes_nothing",
        f"{WEBHOOK_FUZZ}webhook_answers_any_signed_event_and_the_books_still_add_up",
    ],
    "CSV import (files and rows)": [
        "shop/tests/test_imports_tables.py::test_random_bytes_never_raise_nor_write",
        "shop/tests/test_imports_rows.py::test_random_rows_are_counted_and_all_or_nothing",
    ],
    "order/payment URLs": [
        f"{SHOP_FUZZ}tampered_placed_orders_show_no_order",
        f"{PAYMENT_PAGES_FUZZ}payment_pages_of_orders_this_session_did_not_place_are_not_found",
    ],
}
# The suite's tests that guard each fault between drills.
GUARDS = {
    "worker": "orders/tests/test_worker.py::"
    "test_a_task_of_a_killed_worker_is_redelivered_and_sent_once",
    "broker": "orders/tests/test_faults.py::"
    "test_checkouts_while_the_broker_is_away_are_confirmed_once_it_is_back",
    "database": "orders/tests/test_faults.py::"
    "test_dropped_database_connections_fail_requests_cleanly",
    "webhook": "payments/tests/test_webhooks.py::"
    "test_every_event_twice_in_any_order_pays_each_order_once",
    "stripe": "payments/tests/test_views.py::"
    "test_a_stripe_timeout_gives_the_retry_page_and_a_retry_once_stripe_answers_works",
    "flood": "orders/tests/test_limits.py",
    "redis": "shop/tests/test_catalog_cache.py::"
    "test_a_customer_browses_and_buys_while_the_cache_is_away",
    "refund-broker": "payments/tests/test_refunds.py::"
    "test_reconciliation_sends_a_refund_the_broker_never_took_once",
    "refund-worker": "reports/tests/test_apps.py::"
    "test_a_refund_email_carries_the_credit_note_made_once_though_the_task_runs_twice",
}
# Each cart has its own email and client address (X-Forwarded-For, which the drills trust from
# one proxy hop as production does behind its proxy): the load's customers are many people.
CUSTOMER_FORM = (
    "first_name=Load&last_name=Drill&address=1+Rue+du+Banc&postal_code=75001&city=Paris"
    "&delivery_method=collect&age_confirmed=on&expected_total="
)

# Each wrk thread runs its own copy; the harness prepends pages, wine_ids, prices (cents),
# sessions ({key, csrf token, index of the wine in its cart}), nthreads and customer.
# 70 % catalog pages, 20 % cart adds and updates, 10 % checkouts. Each thread takes its own
# carts in turn, several per connection, so that no two requests in flight share a cart; it
# keeps each cart's content to post the total the customer was shown.
MIXED_LUA = """
local threads = {}
local counter = 0
placed = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  mine = {}
  for i, s in ipairs(sessions) do
    if (i - 1) % nthreads == id then
      local cart = {}
      cart[s[3]] = 1
      table.insert(mine, {
        key = s[1], token = s[2], cart = cart, stale = false, address = s[4], email = s[5]
      })
    end
  end
  turn = 0
end

local function post(path, s, body)
  local headers = {
    ["Host"] = wrk.headers["Host"],
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. s.token .. "; sessionid=" .. s.key,
    ["X-CSRFToken"] = s.token,
    ["X-Forwarded-For"] = s.address,
  }
  return wrk.format("POST", path, headers, body)
end

function request()
  local roll = math.random(100)
  if roll <= 70 then
    return wrk.format("GET", pages[math.random(#pages)], {["Host"] = wrk.headers["Host"]})
  end
  turn = turn % #mine + 1
  local s = mine[turn]
  if s.stale then
    -- After a checkout: whether it placed the order or not, both sides start from empty.
    s.stale = false
    s.cart = {}
    return post("/cart/clear/", s, "")
  end
  local cents, lines = 0, 0
  for i, q in pairs(s.cart) do
    cents = cents + prices[i] * q
    lines = lines + 1
  end
  if roll > 90 and lines > 0 then
    s.stale = true
    local total = string.format("%d.%02d", math.floor(cents / 100), cents % 100)
    return post("/orders/checkout/", s, "email=" .. s.email .. "&" .. customer .. total)
  end
  local i = math.random(#wine_ids)
  if s.cart[i] then
    s.cart[i] = math.random(3)
    return post("/cart/update/" .. wine_ids[i] .. "/", s, "quantity=" .. s.cart[i])
  end
  s.cart[i] = 1
  return post("/cart/add/" .. wine_ids[i] .. "/", s, "quantity=1")
end

function response(status, headers, body)
  if string.find(headers["Location"] or "", "/payment/process/", 1, true) then
    placed = placed + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("placed") end
  io.write(string.format("Checkouts answered with the payment page: %d\\n", total))
end
"""


# --- Checkout flood --------------------------------------------------------------------------

FLOOD_AT, FLOOD_SECONDS = 20, 25  # into the load
FLOOD_ADDRESSES = 20  # the "many addresses" script's share of a botnet
FLOOD_BOTTLES = 6  # in each scripted order
FLOOD_OPEN_CAP = 10
# The shop's checkout limits in the drills. The load's customers each place an order every few
# seconds, far more often than a person does, so the placement rates are raised; the caps on
# unpaid orders are production's scale, and they are what holds a flood of orders nobody pays.
FLOOD_SETTINGS = {
    "DJANGO_TRUSTED_PROXY_HOPS": "1",
    "ORDER_PLACEMENTS_PER_SESSION": "1000",
    "ORDER_PLACEMENTS_PER_ADDRESS": "1000",
    "ORDER_PLACEMENTS_GLOBAL": "1000000",
    "ORDER_OPEN_PER_SESSION": str(FLOOD_OPEN_CAP),
    "ORDER_OPEN_PER_ADDRESS": str(FLOOD_OPEN_CAP),
    "ORDER_OPEN_PER_EMAIL": str(FLOOD_OPEN_CAP),
}


def flood_checkout(port: int, wine: list, address: str, email: str) -> int:
    """Script one checkout as a fresh client (no cookie kept after it); return its status."""
    pk, slug, cents = wine
    browser = Browser(port)
    try:
        status, _ = browser.request("GET", f"/wine/{slug}/")
        if "csrftoken" not in browser.cookies:
            return status
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-CSRFToken": browser.cookies["csrftoken"],
            "X-Forwarded-For": address,
        }
        browser.request("POST", f"/cart/add/{pk}/", f"quantity={FLOOD_BOTTLES}", headers)
        total = cents * FLOOD_BOTTLES
        body = urlencode(
            {
                "first_name": "Cheap wine at",
                "last_name": "https://spam.example/",
                "email": email,
                "address": "1 Spam Street",
                "postal_code": "00000",
                "city": "Anywhere",
                "delivery_method": "collect",
                "age_confirmed": "on",
                "expected_total": f"{total // 100}.{total % 100:02d}",
            }
        )
        status, _ = browser.request("POST", "/orders/checkout/", body, headers)
    except OSError:
        return 0
    return status


def checkout_flood(port: int, seeded: dict, seconds: float) -> dict:
    """Two scripts place orders they never pay for `seconds`: one from one address with one
    stranger's email, one from FLOOD_ADDRESSES addresses with a new email each time."""
    one_wine, many_wine = seeded["wines"][CART_WINES], seeded["wines"][CART_WINES + 1]
    answers = {"one": Counter(), "many": Counter()}
    end, started = time.monotonic() + seconds, time.time()

    def one_address():
        while time.monotonic() < end:
            status = flood_checkout(port, one_wine, "198.18.0.1", f"stranger@{FLOOD_DOMAIN}")
            answers["one"][status] += 1

    def many_addresses():
        n = 0
        while time.monotonic() < end:
            address, email = f"198.19.{n % FLOOD_ADDRESSES}.1", f"x{n}@{FLOOD_DOMAIN}"
            answers["many"][flood_checkout(port, many_wine, address, email)] += 1
            n += 1

    threads = [threading.Thread(target=f) for f in (one_address, many_addresses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"answers": answers, "window": [started, time.time()]}


def flood_limit() -> int:
    """Return the most bottles the flood's orders can hold: each address's unpaid orders."""
    return (1 + FLOOD_ADDRESSES) * FLOOD_OPEN_CAP * FLOOD_BOTTLES


def flood_mails() -> int:
    """Count the mails the worker wrote to a flood address."""
    pattern = re.compile(rf"^To: .*@{re.escape(FLOOD_DOMAIN)}", re.M)
    return sum(len(pattern.findall(p.read_text("utf-8"))) for p in (WORK_DIR / "mail").glob("*"))


def flood_row(flood: dict, load_errors: int) -> tuple:
    answers = {k: Counter({int(s): n for s, n in v.items()}) for k, v in flood["answers"].items()}
    tried = sum(sum(c.values()) for c in answers.values())
    refused = sum(c[429] for c in answers.values())
    placed, held, limit = flood["orders"], flood["held"], flood_limit()
    ok = (
        held <= limit
        and refused > 0
        and flood["emails"] == 0
        and flood["mails"] == 0
        and flood["real_orders"] > 0
        and load_errors == 0
        and all(status in (302, 429) for c in answers.values() for status in c)
    )
    return (
        "flood",
        "checkout flood",
        ok,
        f"{tried:,} scripted checkouts from 1 address and from {FLOOD_ADDRESSES}: {placed} "
        f"placed, {refused:,} refused (429); {held:,} bottles held by flood orders (limit "
        f"{limit:,}); {flood['emails'] + flood['mails']} emails to flood addresses; "
        f"{flood['real_orders']:,} customer orders placed meanwhile",
    )


# --- The driver ------------------------------------------------------------------------------


SCENARIOS = str(Path(__file__).with_name("drills_scenarios.py"))


def django(env: dict, *args: str, timeout: float = 300) -> dict:
    return json.loads(
        run([sys.executable, SCENARIOS, *args], env, timeout=timeout).splitlines()[-1]
    )


def note(message: str) -> None:
    print(f"drills: {message}", file=sys.stderr, flush=True)


def ensure_vhost(base_url: str) -> tuple[str, str]:
    """Return the vhost to use and a queue prefix: the drills' own vhost, made if missing, or
    RabbitMQ's default vhost with queues of their own when no vhost can be made."""
    if shutil.which("rabbitmqctl"):
        listed = subprocess.run(
            ["rabbitmqctl", "-q", "list_vhosts"], capture_output=True, text=True, timeout=60
        )
        if listed.returncode == 0 and VHOST in listed.stdout.split():
            return VHOST, ""
        made = subprocess.run(["rabbitmqctl", "add_vhost", VHOST], capture_output=True, timeout=60)
        allowed = subprocess.run(
            ["rabbitmqctl", "set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*"],
            capture_output=True,
            timeout=60,
        )
        if made.returncode == 0 and allowed.returncode == 0:
            return VHOST, ""
    if management_vhost(base_url):
        return VHOST, ""
    return "", "drills."


def management_vhost(base_url: str) -> bool:
    """Make the vhost through RabbitMQ's management API, when it is enabled."""
    import base64
    import http.client

    parts = urlsplit(base_url)
    auth = base64.b64encode(f"{parts.username}:{parts.password}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "Content-Type": "application/json"}
    permissions = json.dumps({"configure": ".*", "write": ".*", "read": ".*"})
    try:
        for path, body in [
            (f"/api/vhosts/{VHOST}", "{}"),
            (f"/api/permissions/{VHOST}/{parts.username}", permissions),
        ]:
            conn = http.client.HTTPConnection(parts.hostname, 15672, timeout=5)
            conn.request("PUT", path, body, headers)
            if conn.getresponse().status not in (201, 204):
                return False
            conn.close()
    except OSError:
        return False
    return True


def purge_queues(url: str, queues: list[str]) -> None:
    """Empty the drills' queues: tasks a killed earlier run left must not count in this one."""
    from kombu import Connection

    with Connection(url, connect_timeout=5) as conn:
        channel = conn.default_channel
        for queue in queues:
            channel.queue_declare(queue=queue, durable=True, auto_delete=False)
            channel.queue_purge(queue)


def drills_env() -> tuple[dict, str, str]:
    """Return the environment of every process, a fresh database, and the broker's upstream."""
    shutil.rmtree(WORK_DIR, ignore_errors=True)
    (WORK_DIR / "mail").mkdir(parents=True)
    database_url = os.environ.get("DRILLS_DATABASE_URL", DATABASE_URL)
    reset_postgres(database_url, marker="drills")
    rabbitmq = os.environ.get("DRILLS_RABBITMQ_URL", RABBITMQ_URL).rstrip("/")
    vhost, prefix = ensure_vhost(rabbitmq)
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "bench.drills_settings",
        "DATABASE_URL": database_url,
        "CACHE_URL": f"filecache://{WORK_DIR / 'cache'}",
        "STATIC_ROOT": str(WORK_DIR / "static"),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "drills-only-key",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        # wrk and the drills speak plain HTTP on loopback, as a proxy behind TLS would.
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "EMAIL_URL": "filemail://",
        "EMAIL_FILE_PATH": str(WORK_DIR / "mail"),
        "TEST_MAIL_PAUSE": str(MAIL_PAUSE),
        # The sweep queues again every email still unsent when it runs (sending is idempotent).
        "EMAIL_RETRY_AFTER_MINUTES": "0",
        "DRILLS_QUEUE_PREFIX": prefix,
        # The drills' Stripe sandbox (Drills.start), never a Stripe account.
        "DRILLS_STRIPE_SANDBOX": "1",
        "STRIPE_SECRET_KEY": "",
        "STRIPE_SANDBOX_URL": f"http://127.0.0.1:{free_port()}",
        "CREDIT_NOTE_PAUSE": str(CREDIT_NOTE_PAUSE),
        "DRILLS_CREDIT_NOTE_MARKER": str(WORK_DIR / "credit-note.marker"),
        **FLOOD_SETTINGS,
    }
    return env, rabbitmq, vhost


class Drills:
    """The processes of a run; stop() ends each one that is still running."""

    def __init__(self, env: dict, upstream: str, vhost: str):
        self.env = env
        self.upstream, self.vhost = upstream, vhost
        parts = urlsplit(upstream)
        self.proxy = TcpProxy((parts.hostname, parts.port or 5672))
        self.proxy.start()
        credentials = f"{parts.username}:{parts.password}"
        self.broker_url = f"amqp://{credentials}@127.0.0.1:{self.proxy.port}/{vhost}"
        self.env["CELERY_BROKER_URL"] = self.broker_url
        prefix = env["DRILLS_QUEUE_PREFIX"]
        self.queues = tuple(f"{prefix}{queue}" for queue in QUEUES)
        self.port = free_port()
        self.logs = []
        self.processes: dict[str, subprocess.Popen] = {}
        self.worker_name = ""
        self.redis = DrillsRedis()
        self.env["CACHE_URL"] = self.redis.start(self.log("redis"))

    def log(self, name: str):
        log = (WORK_DIR / f"{name}.log").open("a")
        self.logs.append(log)
        return log

    def start(self) -> None:
        self.start_sandbox()
        self.processes["web"] = start_gunicorn(self.env, self.port, self.log("gunicorn"))
        self.start_worker()
        args = [sys.executable, "-m", "celery", "--app", "backoffice", "beat", "--pidfile="]
        self.processes["beat"] = subprocess.Popen(
            [*args, "--loglevel", "INFO"],
            env=self.env,
            cwd=BASE_DIR,
            stdout=self.log("beat"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_ready(self.processes["web"], self.port)
        self.wait_worker()

    def start_sandbox(self) -> None:
        """Start the Stripe sandbox, posting its events to the shop's webhook."""
        port = urlsplit(self.env["STRIPE_SANDBOX_URL"]).port
        webhook = f"http://127.0.0.1:{self.port}/payment/webhook/"
        args = [sys.executable, "manage.py", "stripe_sandbox", "--port", str(port)]
        self.processes["sandbox"] = subprocess.Popen(
            [*args, "--webhook-url", webhook],
            env=self.env,
            cwd=BASE_DIR,
            stdout=self.log("sandbox"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if self.processes["sandbox"].poll() is not None or time.monotonic() > deadline:
                    raise BenchError("the Stripe sandbox did not start") from None
                time.sleep(0.1)

    def start_worker(self) -> None:
        self.worker_name = f"drills-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
        self.processes["worker"] = start_worker(
            self.env, self.worker_name, self.log("worker"), queues=self.queues, pool=WORKER_POOL
        )

    def wait_worker(self) -> None:
        wait_worker(self.processes["worker"], self.broker_url, self.worker_name)

    def kill_worker(self) -> None:
        worker = self.processes["worker"]
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes.values():
            stop(process)
        self.proxy.stop()
        self.redis.stop()
        for log in self.logs:
            log.close()

    def tail(self) -> str:
        return "\n".join(
            f"--- {path}:\n{path.read_text()[-2000:]}" for path in sorted(WORK_DIR.glob("*.log"))
        )


# Numbers every cart the drills open, so that each run's customers are new ones: an address or
# an email that already holds unpaid orders from an earlier run would meet the caps on them.
_customers = itertools.count()


def prepare_sessions(port: int, wines: list, count: int) -> list:
    """Open `count` carts over HTTP, as customers would: a CSRF token and one bottle each."""
    slug = wines[0][1]
    sessions = []
    for index_in_run in range(count):
        n = next(_customers)
        browser = Browser(port)
        status, _ = browser.request("GET", f"/wine/{slug}/")
        if status != 200 or "csrftoken" not in browser.cookies:
            raise BenchError(f"the wine page answered {status} without a CSRF cookie")
        index = index_in_run % CART_WINES
        browser.add_to_cart(wines[index][0])
        address = f"10.77.{n // 250}.{n % 250 + 1}"
        email = f"load-{n}%40drills.example.com"
        cookies = browser.cookies
        sessions.append([cookies["sessionid"], cookies["csrftoken"], index + 1, address, email])
    return sessions


def mixed_script(directory: str, name: str, seeded: dict, sessions: list) -> str:
    wines = seeded["wines"]
    pages = ["/", "/?page=2", "/?q=Cuv%C3%A9e", "/?q=Essais+01"]
    pages += [f"/?category={slug}" for slug in seeded["categories"]]
    pages += [f"/?country={slug}" for slug in seeded["countries"][:6]]
    pages += [f"/?category={seeded['categories'][0]}&country={seeded['countries'][0]}"]
    pages += [f"/wine/{slug}/" for _, slug, _ in wines[:: WINES // 20]]

    def table(values) -> str:
        return "{" + ", ".join(values) + "}"

    head = [
        f"pages = {table(json.dumps(p) for p in pages)}",
        f"wine_ids = {table(str(pk) for pk, _, _ in wines[:CART_WINES])}",
        f"prices = {table(str(cents) for _, _, cents in wines[:CART_WINES])}",
        "sessions = "
        + table(
            f'{{"{key}", "{token}", {index}, "{address}", "{email}"}}'
            for key, token, index, address, email in sessions
        ),
        f"nthreads = {THREADS}",
        f'customer = "{CUSTOMER_FORM}"',
    ]
    path = Path(directory) / f"{name}.lua"
    path.write_text("\n".join(head) + "\n" + MIXED_LUA)
    return str(path)


def placed_count(output: str) -> int:
    match = re.search(r"Checkouts answered with the payment page: (\d+)", output)
    return int(match.group(1)) if match else 0


def database_backends(url: str, *, terminate: bool) -> int:
    """Count (or terminate) the connections to the drills' database, other than this one."""
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
    if terminate:
        query = query.replace("count(*)", "count(pg_terminate_backend(pid))")
    with postgres(url, dbname="postgres") as conn:
        return conn.execute(query, [database_name(url)]).fetchone()[0]


def unsent_emails(url: str) -> int:
    """Count what the worker still owes: emails not sent, and Stripe events not applied yet
    (each one may owe an email)."""
    with postgres(url) as conn:
        query = "SELECT count(*) FROM orders_orderemail WHERE sent_at IS NULL"
        waiting = "SELECT count(*) FROM payments_stripeevent WHERE applied IS NULL"
        return conn.execute(query).fetchone()[0] + conn.execute(waiting).fetchone()[0]


def sent_mails() -> Counter:
    """Count the mails the worker wrote, by subject (each names one order)."""
    subjects = Counter()
    for path in (WORK_DIR / "mail").glob("*.log"):
        subjects.update(re.findall(r"^Subject: (.+)$", path.read_text("utf-8"), re.M))
    return subjects


class Timeline:
    """Faults on a clock that starts with the load: run each at its second, in a thread."""

    def __init__(self):
        self.start = time.monotonic()
        self.errors: list[str] = []
        self.threads = []

    def at(self, second: float, action) -> None:
        def run_at():
            time.sleep(max(0.0, self.start + second - time.monotonic()))
            try:
                action()
            except Exception as error:  # reported with the fault's row
                self.errors.append(f"{action.__name__}: {error}")

        thread = threading.Thread(target=run_at, daemon=True)
        thread.start()
        self.threads.append(thread)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=120)


def _scenario(drills: Drills, name: str, *args: str) -> subprocess.Popen:
    """Start the drills' scenario name in a process of its own, stopped with the others."""
    process = subprocess.Popen(
        [sys.executable, SCENARIOS, name, *args],
        env=drills.env,
        cwd=BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=drills.log(name),
        text=True,
        start_new_session=True,
    )
    drills.processes[name] = process
    return process


def load(drills: Drills, seeded: dict, sessions: list, seconds: int, connections: int) -> dict:
    """The mixed load, with the webhook feed, the worker killed and the broker away."""
    marker = WORK_DIR / "mail" / "sending.marker"
    facts: dict = {"killed_during": "", "outage": None, "credit_killed": ""}
    facts["flood"] = {"answers": {"one": {}, "many": {}}, "window": [0, 0]}
    feed_out = str(WORK_DIR / "feed.json")
    feeder = _scenario(drills, "feed", str(seconds), str(drills.port), feed_out)
    refunds_out = str(WORK_DIR / "refunds.json")
    refunder = _scenario(drills, "refunds", str(seconds), refunds_out)
    timeline = Timeline()
    credit_marker = Path(drills.env["DRILLS_CREDIT_NOTE_MARKER"])

    def kill_worker_mid_send():
        marker.unlink(missing_ok=True)
        deadline = time.monotonic() + 20
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        if not marker.exists():
            raise BenchError("no send began within 20 s")
        drills.kill_worker()
        facts["killed_during"] = marker.read_text()
        facts["killed_at"] = time.monotonic() - timeline.start
        # A new worker takes over; it answers once up, whether or not the broker is there by then.
        drills.start_worker()

    def kill_worker_mid_credit_note():
        credit_marker.unlink(missing_ok=True)
        deadline = time.monotonic() + CREDIT_NOTE_KILL_WAIT
        while not credit_marker.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        if not credit_marker.exists():
            raise BenchError(f"no credit note was stored within {CREDIT_NOTE_KILL_WAIT} s")
        drills.kill_worker()
        facts["credit_killed"] = credit_marker.read_text()
        facts["credit_killed_at"] = time.monotonic() - timeline.start
        drills.start_worker()

    def broker_away():
        drills.proxy.stop()
        facts["outage"] = [time.time()]
        note(f"broker away for {outage:.0f} s")

    def broker_back():
        drills.proxy.start()
        facts["outage"].append(time.time())
        note("broker back")

    def flood():
        facts["flood"] = checkout_flood(drills.port, seeded, min(FLOOD_SECONDS, seconds / 3))

    # A shorter load (while developing) keeps the same shape: kill, outage, time to recover.
    outage_at, outage = min(OUTAGE_AT, seconds / 4), min(OUTAGE_SECONDS, seconds / 2)
    timeline.at(min(FLOOD_AT, seconds / 3), flood)
    timeline.at(min(KILL_AT, seconds / 8), kill_worker_mid_send)
    timeline.at(outage_at, broker_away)
    timeline.at(outage_at + outage, broker_back)
    # Once the broker is back the refunds asked meanwhile wait, and those asked since flow.
    timeline.at(outage_at + outage + 1, kill_worker_mid_credit_note)
    facts["outage_seconds"] = outage
    with tempfile.TemporaryDirectory() as tmp:
        script = mixed_script(tmp, "load", seeded, sessions)
        url = f"http://127.0.0.1:{drills.port}/"
        result = wrk("mixed", url, seconds, connections, "-s", script)
    timeline.join()
    out, _ = feeder.communicate(timeout=120)
    if feeder.returncode:
        raise BenchError(f"the webhook feed failed (see {WORK_DIR / 'feed.log'})")
    facts |= {"wrk": result, "feed": json.loads(out.splitlines()[-1])}
    out, _ = refunder.communicate(timeout=120)
    if refunder.returncode:
        raise BenchError(f"the staff refunds failed (see {WORK_DIR / 'refunds.log'})")
    facts["refunds"] = json.loads(out.splitlines()[-1])
    facts["errors"] = timeline.errors
    return facts


def drop_connections(drills: Drills, seeded: dict, sessions: list, connections: int) -> dict:
    """Checkout traffic while every connection to the database is cut, DB_DROPS times."""
    url = drills.env["DATABASE_URL"]
    timeline, dropped = Timeline(), []

    def terminate():
        dropped.append(database_backends(url, terminate=True))

    for n in range(DB_DROPS):
        timeline.at((n + 1) * DB_DROP_SECONDS / (DB_DROPS + 1), terminate)
    with tempfile.TemporaryDirectory() as tmp:
        script = mixed_script(tmp, "drops", seeded, sessions)
        result = wrk(
            "drops", f"http://127.0.0.1:{drills.port}/", DB_DROP_SECONDS, connections, "-s", script
        )
    timeline.join()
    # Back to normal: the pages answer again.
    after = [Browser(drills.port).request("GET", "/")[0] for _ in range(10)]
    return {"wrk": result, "dropped": dropped, "after": after, "errors": timeline.errors}


# --- Redis away ------------------------------------------------------------------------------


class DrillsRedis:
    """The shared cache of the drills: a redis-server of their own (or DRILLS_REDIS_URL's), which
    every process reaches through a loopback proxy; stopping the proxy is Redis going away."""

    def __init__(self):
        self.process: subprocess.Popen | None = None
        self.proxy: TcpProxy | None = None
        self.client = None
        self.db = "0"

    def start(self, log) -> str:
        """Start the server and the proxy; return the cache URL the shop's processes use."""
        import redis

        given = os.environ.get("DRILLS_REDIS_URL")
        if given:
            parts = urlsplit(given)
            upstream = (parts.hostname, parts.port or 6379)
            self.db = parts.path.strip("/") or "0"
        else:
            if not shutil.which("redis-server"):
                raise BenchError("redis-server is not installed (apt-get install redis-server)")
            upstream = ("127.0.0.1", free_port())
            args = ["redis-server", "--port", str(upstream[1]), "--bind", "127.0.0.1"]
            args += ["--save", "", "--appendonly", "no", "--dir", str(WORK_DIR)]
            self.process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.client = redis.Redis(*upstream, db=int(self.db), socket_timeout=5)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.flushdb()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise BenchError(f"no Redis answered at {upstream[0]}:{upstream[1]}") from None
                time.sleep(0.1)
        self.proxy = TcpProxy(upstream)
        self.proxy.start()
        return f"redis://127.0.0.1:{self.proxy.port}/{self.db}"

    def hits(self) -> int:
        """Return the reads that found their key, asked of Redis itself (not through the proxy)."""
        return int(self.client.info("stats")["keyspace_hits"])

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        if self.process is not None:
            stop(self.process)


def redis_away(drills: Drills, seeded: dict, initial: Path) -> dict:
    """Mixed traffic on fresh carts while the shared cache is away, catalog traffic once it is
    back, then the books."""
    per_run = SESSIONS_PER_THREAD * THREADS
    sessions = prepare_sessions(drills.port, seeded["wines"], per_run)
    url = f"http://127.0.0.1:{drills.port}/"
    with tempfile.TemporaryDirectory() as tmp:
        script = mixed_script(tmp, "redis", seeded, sessions)
        # Cut as the load starts: the web processes' pooled connections to Redis are cut too.
        drills.redis.proxy.stop()
        note(f"Redis away for {REDIS_AWAY_SECONDS} s")
        try:
            away = wrk("redis-away", url, REDIS_AWAY_SECONDS, REDIS_CONNECTIONS, "-s", script)
        finally:
            drills.redis.proxy.start()
    note("Redis back")
    hits = drills.redis.hits()
    back = wrk("redis-back", url, REDIS_BACK_SECONDS, REDIS_CONNECTIONS)
    checked = django(drills.env, "books", str(initial), "0")
    log = (WORK_DIR / "gunicorn.log").read_text()
    return {
        "away": away,
        "back": back,
        "hits_back": drills.redis.hits() - hits,
        "warnings": log.count("The shared cache is unreachable"),
        "books": [w for c in checked["checks"] for w in c["wrong"]],
    }


def redis_row(facts: dict) -> tuple:
    away, back = facts["away"], facts["back"]
    away_socket, back_socket = socket_errors(away.output), socket_errors(back.output)
    ok = (
        away.errors == 0
        and back.errors == 0
        and placed_count(away.output) > 0
        and facts["hits_back"] > 0
        and not facts["books"]
    )
    return (
        "redis",
        f"Redis away {REDIS_AWAY_SECONDS} s",
        ok,
        f"{away.requests:,} requests while away ({REDIS_CONNECTIONS} connections), "
        f"{away.errors - away_socket} answers not 2xx/3xx, {away_socket} socket errors, "
        f"{placed_count(away.output):,} orders placed, p99 {away.p99:.0f} ms; "
        f"{facts['warnings']} warnings logged; back: {facts['hits_back']:,} cache hits in "
        f"{back.requests:,} requests ({REDIS_BACK_SECONDS} s), "
        f"{back.errors - back_socket} not 2xx/3xx, {back_socket} socket errors; "
        f"books after: {'ok' if not facts['books'] else facts['books'][:3]}",
    )


def wait_drained(url: str) -> tuple[int, float]:
    start = time.monotonic()
    unsent = unsent_emails(url)
    while unsent and time.monotonic() < start + DRAIN_TIMEOUT:
        time.sleep(2)
        unsent = unsent_emails(url)
    return unsent, time.monotonic() - start


def fuzz() -> dict:
    """Run the fuzz targets with the drills' profile; return examples and failures by target."""
    nodes = [node for target in FUZZ_TARGETS.values() for node in target]
    profile = os.environ.get("DRILLS_FUZZ_PROFILE", FUZZ_PROFILE)
    args = [sys.executable, "-m", "pytest", *nodes, f"--hypothesis-profile={profile}"]
    args += ["--hypothesis-show-statistics", "-rf"]
    done = subprocess.run(args, cwd=BASE_DIR, capture_output=True, text=True, timeout=900)
    out = done.stdout
    # "path::test:" then its phases' "N passing examples, M failing examples, K invalid".
    examples: Counter = Counter()
    current = ""
    for line in out.splitlines():
        if re.match(r"^\S+::\S+:$", line):
            current = line[:-1]
        found = re.search(r"(\d+) passing(?: examples)?, (\d+) failing", line)
        if found and current:
            examples[current] += int(found.group(1)) + int(found.group(2))
    failed = re.findall(r"^FAILED (\S+)", out, re.M)
    results = {}
    for target, target_nodes in FUZZ_TARGETS.items():
        mine = [n for n in examples if any(n.startswith(t) for t in target_nodes)]
        results[target] = {
            "examples": sum(examples[n] for n in mine),
            "tests": len(mine),
            "failed": [f for f in failed if any(f.startswith(t) for t in target_nodes)],
        }
    summary = f"{len(examples)} fuzz tests, pytest exit status {done.returncode}"
    return {
        "targets": results,
        "summary": summary,
        "returncode": done.returncode,
        "tail": out[-3000:],
    }


# --- The report ------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(facts: dict) -> int:
    load, drops, storm_facts = facts["load"], facts["drops"], facts["storm"]
    books_final, stripe, fuzzed = facts["books"], facts["stripe"], facts["fuzz"]
    result = load["wrk"]
    lost = sum(len(c["wrong"]) for c in books_final["checks"])
    lost += len(books_final["states"]["wrong"])
    mails = facts["mails"]
    duplicates = sum(n - 1 for n in mails.values() if n > 1)
    lost += duplicates
    print()
    print(
        f"Wine-Shop drills — gunicorn {WORKERS} workers, Celery worker ({WORKER_POOL} processes) "
        f"+ beat, PostgreSQL, RabbitMQ vhost {facts['vhost'] or '/ (queues drills.*)'} "
        "and Redis, each of the last two through a loopback proxy"
    )
    print()
    print(
        f"Load held: {facts['seconds']} s of wrk, {THREADS} threads, {facts['connections']} "
        "connections; 70 % catalog (lists, filters, wine pages), 20 % cart, 10 % checkout"
    )
    print(
        f"  {'requests':>10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}  orders placed"
    )
    print(
        f"  {result.requests:>10,} {result.rps:>8.1f} {result.p50:>8.1f} {result.p99:>8.1f} "
        f"{result.errors:>7}  {placed_count(result.output):,}"
    )
    feed_facts = load["feed"]
    print(
        f"  webhook during the load: {feed_facts['deliveries']:,} signed deliveries of "
        f"{feed_facts['events']:,} events for {feed_facts['orders']:,} orders (about 30 % "
        f"delivered twice, each batch shuffled); answers {dict(feed_facts['answers'])}"
    )
    refunds, settle = facts["refunds"], facts["settle"]
    during = refunds["load"]
    print(
        f"  staff refunds during the load: {during['asked']} asked ({during['restocked']} with a "
        f"bottle back on sale, the others an amount), {during['succeeded']} succeeded at "
        f"Stripe, {during['credit_notes']} credit notes, {during['sent']}/{during['emails']} "
        f"refund emails sent; {sum(load['refunds']['refused'].values())} refused"
    )
    print()
    print("Faults survived (each followed by the books check)")
    rows = []
    worker_ok = bool(load["killed_during"]) and not load["errors"]
    killed = load["killed_during"].splitlines()
    killed_subject = killed[0] if killed else ""
    worker_ok = worker_ok and mails.get(killed_subject) == 1
    rows.append(
        (
            "worker",
            "worker killed (SIGKILL)",
            worker_ok,
            f"killed at {load.get('killed_at', 0):.0f} s while sending “{killed_subject}”; "
            f"that mail sent {mails.get(killed_subject, 0)} time(s) after redelivery; "
            f"{sum(mails.values()):,} mails, {duplicates} sent twice"
            + "".join(f"; {error}" for error in load["errors"]),
        )
    )
    outage = facts["outage"]
    rows.append(
        (
            "broker",
            f"broker away {load['outage_seconds']:.0f} s",
            outage["orders"] > 0 and outage["sent"] == outage["emails"] and result.errors == 0,
            f"{outage['orders']:,} orders placed while away, their {outage['emails']:,} emails "
            f"all sent after by the sweep: {outage['sent']:,}; load errors {result.errors}",
        )
    )
    drop = drops["wrk"]
    server_errors = drop.errors - drops["socket_errors"]
    drops_ok = (
        drops["socket_errors"] == 0
        and all(status == 200 for status in drops["after"])
        and not drops["books"]
        and not drops["errors"]
    )
    rows.append(
        (
            "database",
            "PostgreSQL connections dropped",
            drops_ok,
            f"{len(drops['dropped'])} drops ({sum(drops['dropped'])} backends) in "
            f"{DB_DROP_SECONDS} s: {drop.requests:,} requests, {server_errors} failed cleanly "
            f"(5xx), {drops['socket_errors']} socket errors; {placed_count(drop.output)} orders "
            f"placed; books after: {'ok' if not drops['books'] else drops['books']}",
        )
    )
    storm_ok = (
        storm_facts["answers"] == {"200": storm_facts["deliveries"]}
        and not storm_facts["wrong"]
        and storm_facts["coupon_uses"] == storm_facts["coupon_uses_expected"]
    )
    rows.append(
        (
            "webhook",
            "webhook: each event twice, shuffled",
            storm_ok,
            f"{storm_facts['orders']} orders, {storm_facts['deliveries']} deliveries, "
            f"{STORM_THREADS} at once: {storm_facts['orders'] - len(storm_facts['wrong'])} in the "
            f"right state, answers {storm_facts['answers']}, coupon uses "
            f"{storm_facts['coupon_uses']}/{storm_facts['coupon_uses_expected']}",
        )
    )
    stripe_ok = (
        stripe["status"] == 503
        and stripe["message"]
        and stripe["pending"]
        and stripe["retry_status"] == 303
        and stripe["retry_to_stripe"]
        and stripe["retry_pending"]
    )
    rows.append(
        (
            "stripe",
            "Stripe API timeout",
            stripe_ok,
            f"retry page {stripe['status']} after {stripe['waited']:.1f} s (1 s x 3 tries), "
            f"order pending; retry with Stripe back: {stripe['retry_status']} to Checkout",
        )
    )
    away = refunds["away"]
    rows.append(
        (
            "refund-broker",
            f"refunds while broker away {load['outage_seconds']:.0f} s",
            away["asked"] > 0
            and away["succeeded"] == away["asked"]
            and away["at_stripe"] == away["asked"]
            and away["credit_notes"] == away["asked"]
            and away["sent"] == away["emails"] == away["asked"],
            f"{away['asked']} refunds asked while away, sent once it was back (the "
            f"reconciliation settled {settle['reconciled']}): {away['succeeded']} succeeded, "
            f"{away['at_stripe']} refunds at Stripe, {away['credit_notes']} credit notes, "
            f"{away['sent']} refund emails sent; {settle['pending']} still pending",
        )
    )
    killed_note = refunds["killed"]
    note_subject = killed_note["subject"]
    rows.append(
        (
            "refund-worker",
            "worker killed storing a credit note",
            bool(killed_note.get("number"))
            and killed_note["notes"] == 1
            and killed_note.get("stored")
            and killed_note["emails"] == 1
            and mails.get(note_subject) == 1,
            f"killed at {load.get('credit_killed_at', 0):.0f} s while storing "
            f"{killed_note.get('number') or killed_note['name'] or 'nothing'}; after "
            f"redelivery {killed_note['notes']} credit note "
            f"({'stored' if killed_note.get('stored') else 'not stored'}), "
            f"{killed_note['emails']} refund email, “{note_subject}” sent "
            f"{mails.get(note_subject, 0)} time(s)",
        )
    )
    rows.append(flood_row(facts["flood"], result.errors))
    rows.append(redis_row(facts["redis"]))
    for _, name, ok, what in rows:
        print(f"  {verdict(ok)}  {name:<37} {what}")
    print("  Guarded between drills by:")
    for key, *_ in rows:
        print(f"        {GUARDS[key]}")
    print()
    print(f"Books ({books_final['statuses']})")
    for check in books_final["checks"]:
        wrong = check["wrong"]
        tail = f": {'; '.join(wrong[:3])}" if wrong else ""
        print(
            f"  {verdict(not wrong)}  {check['name']:<9} {check['checked']:>6,} checked  "
            f"{check['what']}{tail}"
        )
    stripe_books = refunds["stripe"]
    lost += len(stripe_books["wrong"])
    tail = f": {'; '.join(stripe_books['wrong'][:3])}" if stripe_books["wrong"] else ""
    print(
        f"  {verdict(not stripe_books['wrong'])}  {'stripe':<9} {stripe_books['checked']:>6,} "
        f"checked  {stripe_books['what']} (the orders refunded){tail}"
    )
    states = books_final["states"]
    print(
        f"  {verdict(not states['wrong'])}  {'states':<9} {states['checked']:>6,} checked  "
        "every order the webhook touched is in the state its events call for"
    )
    print()
    print("Bad inputs tried")
    total = failures = 0
    for target, figures in fuzzed["targets"].items():
        total += figures["examples"]
        failures += len(figures["failed"])
        print(
            f"  {target:<28} {figures['examples']:>7,} inputs ({figures['tests']} tests), "
            f"500s or writes: {len(figures['failed'])}"
        )
    print(f"  bad inputs tried: {total:,}, 500s: {failures} ({fuzzed['summary']})")
    print()
    print(f"Data lost: {lost}   (orders, payments, stock, emails or coupons that do not add up)")
    ok = all(row[2] for row in rows) and lost == 0 and failures == 0 and fuzzed["returncode"] == 0
    ok = ok and result.errors == 0
    return 0 if ok else 1


def main() -> int:
    seconds = int(os.environ.get("DRILLS_SECONDS", 60))
    connections = int(os.environ.get("DRILLS_CONNECTIONS", 50))
    if not shutil.which("wrk"):
        raise BenchError("wrk is not installed (apt-get install wrk)")
    started = time.monotonic()
    note("fresh database, migrate, seed")
    env, upstream, vhost = drills_env()
    run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env, timeout=300)
    run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], env, timeout=300)
    seeded = django(env, "seed")
    initial = WORK_DIR / "initial_stock.json"
    initial.write_text(json.dumps({str(pk): STOCK for pk, _, _ in seeded["wines"]}))
    purge_queues(f"{upstream}/{vhost}", [f"{env['DRILLS_QUEUE_PREFIX']}{q}" for q in QUEUES])
    drills = Drills(env, upstream, vhost)
    facts: dict = {"vhost": vhost, "seconds": seconds, "connections": connections}
    try:
        note("starting gunicorn, the worker and beat")
        drills.start()
        note("opening carts")
        per_run = SESSIONS_PER_THREAD * THREADS
        sessions = prepare_sessions(drills.port, seeded["wines"], 2 * per_run)
        note(f"{seconds} s of mixed load, worker killed, broker away")
        facts["load"] = load(drills, seeded, sessions[:per_run], seconds, connections)
        start, end = facts["load"]["outage"]
        note(f"PostgreSQL connections dropped, {DB_DROP_SECONDS} s of traffic")
        drops = drop_connections(drills, seeded, sessions[per_run:], connections)
        drops["socket_errors"] = socket_errors(drops["wrk"].output)
        checked = django(env, "books", str(initial), "0")
        drops["books"] = [w for c in checked["checks"] for w in c["wrong"]]
        facts["redis"] = redis_away(drills, seeded, initial)
        note("webhook storm")
        storm_out = WORK_DIR / "storm.json"
        facts["storm"] = django(env, "storm", str(drills.port), str(storm_out))
        storm_books = django(env, "books", str(initial), "0", str(storm_out))
        facts["storm"]["wrong"] = storm_books["states"]["wrong"]
        note("Stripe timeout")
        facts["stripe"] = django(env, "stripe", str(seeded["wines"][1][0]))
        note(f"reconciling the refunds, waiting for them to settle (at most {SETTLE_TIMEOUT} s)")
        facts["settle"] = django(env, "settle", timeout=SETTLE_TIMEOUT + 300)
        note(f"waiting for the worker to send every email (at most {DRAIN_TIMEOUT} s)")
        facts["unsent"], facts["drain_seconds"] = wait_drained(env["DATABASE_URL"])
        facts["outage"] = django(env, "outage", str(start), str(end))
        facts["flood"] = facts["load"]["flood"] | django(
            env, "flood", *map(str, facts["load"]["flood"]["window"])
        )
        facts["flood"]["mails"] = flood_mails()
        facts["books"] = django(
            env, "books", str(initial), "1", str(WORK_DIR / "feed.json"), str(storm_out)
        )
        facts["refunds"] = django(
            env,
            "refunds_report",
            str(WORK_DIR / "refunds.json"),
            str(start),
            str(end),
            facts["load"]["credit_killed"],
        )
        facts["mails"] = sent_mails()
        facts["drops"] = drops
    except BenchError as error:
        raise BenchError(f"{error}\n{drills.tail()}") from None
    finally:
        drills.stop()
    note("fuzzing the public endpoints")
    facts["fuzz"] = fuzz()
    if facts["fuzz"]["returncode"]:
        print(facts["fuzz"]["tail"], file=sys.stderr)
    code = report(facts)
    print(f"\nThe drills took {time.monotonic() - started:.0f} s.")
    return code


def socket_errors(output: str) -> int:
    match = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return sum(map(int, match.groups())) if match else 0


if __name__ == "__main__":
    run_script("drills", main, None, failed=2)
