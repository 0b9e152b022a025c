"""Wine-Shop settings.

Every value that differs between the embedded default (``make run``) and production comes from
the environment; `.env.example` lists each variable. Reference:
https://docs.djangoproject.com/en/5.2/ref/settings/
"""

from decimal import Decimal
from email.utils import parseaddr
from pathlib import Path

import environ

from backoffice.placeholders import production_secrets_check

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core ------------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The embedded default (DEBUG on) runs without configuration; production must name its secrets
# rather than fall back on values anyone can read here or in .env.example (its placeholders).
if not DEBUG:
    production_secrets_check(lambda name: env(name, default=""))
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-embedded-default-key")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# bench/'s baseline views (backoffice/baselines.py) answer only when this is on: the benchmark's
# environment turns it on, production never does.
BENCH_BASELINES = env.bool("BENCH_BASELINES", default=False)

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.import_export",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_celery_beat",
    "import_export",
    "core",
    "backoffice",
    "shop",
    "orders",
    "payments",
    "coupons",
    "reports",
]

MIDDLEWARE = [
    # /healthz answers first: load balancers and compose call it over plain HTTP by the
    # container's address, which the SSL redirect and the host check would turn away.
    "backoffice.healthz.HealthzMiddleware",
    # Before anything reads a request body (the CSRF check reads the form).
    "backoffice.uploads.UploadLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "backoffice.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After the session, before anything that reads the language (backoffice/i18n.py).
    "backoffice.i18n.ShopLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "backoffice.urls"
WSGI_APPLICATION = "backoffice.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shop.context_processors.shop",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------------
# SQLite under var/ is the embedded default; PostgreSQL (postgres://...) is production.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so concurrent checkouts queue up instead of
    # failing with "database is locked" when a reader upgrades to a writer.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache -----------------------------------------------------------------------------------
# Shared by every process and host: Redis (redis://...) in production, files on the embedded
# default. A per-process cache would serve stale prices and stock from other workers.


def cache_config(variable: str, default: str) -> dict:
    config = env.cache(variable, default=default)
    if config["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        config["BACKEND"] = "core.cache.RedisCache"
        # redis-py waits 5 s to connect and 5 s for each answer: a Redis that is away would hold
        # every page that long. Options in the URL's query string win.
        # https://redis.readthedocs.io/en/stable/connections.html#redis.Redis
        timeout = env.float("CACHE_SOCKET_TIMEOUT", default=0.5)
        options = config.setdefault("OPTIONS", {})
        options.setdefault("socket_connect_timeout", timeout)
        options.setdefault("socket_timeout", timeout)
    return config


CACHES = {"default": cache_config("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}
# Seconds a process that found the cache away serves without it before trying it again
# (core/cache.py): a dead Redis costs one timeout per process per interval.
CACHE_RETRY_SECONDS = env.float("CACHE_RETRY_SECONDS", default=5)
# Each process keeps the cache versions it read while it is told of every change to them: by
# Redis (core/version_watch.py), or on Linux by inotify on the file cache's folder
# (core/file_watch.py). A catalog page then asks the cache nothing. Off, or on a Redis that
# refuses CLIENT TRACKING, every page reads the catalog's version from the cache.
CACHE_VERSION_WATCH = env.bool("CACHE_VERSION_WATCH", default=True)
CATALOG_CACHE_TIMEOUT = env.int("CATALOG_CACHE_TIMEOUT", default=300)
# Catalog pages each web process also keeps in memory (about 25 kB each), checked against the
# shared cache's version on every request (shop/catalog_cache.py); 0 keeps none.
CATALOG_MEMORY_PAGES = env.int("CATALOG_MEMORY_PAGES", default=200)

# --- Sessions (https://docs.djangoproject.com/en/5.2/topics/http/sessions/) -------------------
# The session row is the truth (a cart survives a Redis restart); with Redis as the cache,
# core.sessions reads it from Redis (Django's cached_db, going on without Redis while it is
# away), so a page that only reads the cart asks the database nothing about the session. Files
# hold the embedded default's cache: the row is as quick to read.
SESSION_ENGINE = env(
    "SESSION_ENGINE",
    default="core.sessions"
    if CACHES["default"]["BACKEND"] == "core.cache.RedisCache"
    else "django.contrib.sessions.backends.db",
)
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 24 * 14)
SESSION_COOKIE_DOMAIN = env("SESSION_COOKIE_DOMAIN", default=None)
SESSION_COOKIE_HTTPONLY = env.bool("SESSION_COOKIE_HTTPONLY", default=True)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=False)
SESSION_SAVE_EVERY_REQUEST = env.bool("SESSION_SAVE_EVERY_REQUEST", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# Flash messages live in a cookie, so showing one never writes a session row.
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"

# --- Security (https://docs.djangoproject.com/en/5.2/ref/middleware/#module-django.middleware.security)
# Production sits behind a TLS-terminating proxy that sets X-Forwarded-Proto, overwriting what a
# client sent; gunicorn must be reachable only through it for the header to be trusted.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# Stripe signs every webhook event; `stripe listen` (compose's stripe profile) forwards them over
# the internal network in plain HTTP. /healthz never reaches this far (backoffice/healthz.py).
SECURE_REDIRECT_EXEMPT = [r"^payment/webhook/$"]
# Seconds browsers keep to HTTPS only; 0 sends no Strict-Transport-Security header.
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Proxies in front of gunicorn that append to X-Forwarded-For (0: clients connect directly).
# The login throttle counts failures per client address read this way.
TRUSTED_PROXY_HOPS = env.int("DJANGO_TRUSTED_PROXY_HOPS", default=0)
# Admin login throttle: this many failures for one username, or from one client address, within
# LOGIN_THROTTLE_MINUTES and further attempts are refused until the window has passed.
LOGIN_THROTTLE_USERNAME_FAILURES = env.int("LOGIN_THROTTLE_USERNAME_FAILURES", default=5)
LOGIN_THROTTLE_ADDRESS_FAILURES = env.int("LOGIN_THROTTLE_ADDRESS_FAILURES", default=20)
LOGIN_THROTTLE_MINUTES = env.int("LOGIN_THROTTLE_MINUTES", default=15)
# When the shared cache holding the counters is away, the login, coupon and checkout limits
# refuse (they can't tell a guesser from a customer) and ask to try again after this many seconds.
RATELIMIT_CACHE_AWAY_RETRY_SECONDS = env.int("RATELIMIT_CACHE_AWAY_RETRY_SECONDS", default=30)
# Where a customer pays: Stripe's hosted Checkout (the checkout form redirects there, which the
# Content-Security-Policy's form-action must allow).
STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"
# Seconds /healthz keeps the broker's answer, so load balancers polling it don't each open an
# AMQP connection.
HEALTHZ_BROKER_CACHE_SECONDS = env.int("HEALTHZ_BROKER_CACHE_SECONDS", default=5)

# --- Auth ------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# --- Internationalisation --------------------------------------------------------------------
# The shop speaks English and French: a visitor's browser chooses (LocaleMiddleware), an order
# keeps the language it was placed in for its emails and documents. The catalogues are
# locale/<language>/LC_MESSAGES/django.po, compiled by `make messages`.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The back office's language, whatever the merchant's browser asks (its pages are written in it).
ADMIN_LANGUAGE = env("ADMIN_LANGUAGE", default="en")
# The visitor's choice of language, kept a year.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = env("TIME_ZONE", default="Europe/Paris")
USE_I18N = True
USE_TZ = True

# --- Celery (https://docs.celeryq.dev/en/stable/userguide/configuration.html) ----------------
# RabbitMQ (amqp://...) in production; kombu's filesystem transport under var/ by default.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
BROKER_DIR = Path(env("CELERY_BROKER_DIR", default=str(VAR_DIR / "broker")))
# A publisher that can't reach the broker tries once more at once, then gives up (the outbox
# sweep sends what could not be queued) instead of holding a customer's request for seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "data_folder_in": str(BROKER_DIR / "messages"),
        "data_folder_out": str(BROKER_DIR / "messages"),
        # Fanout exchanges (events, remote control) keep their bindings here.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # Seconds between two looks at the folders: tasks and remote-control replies wait that long.
        "polling_interval": 0.2,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
# No result backend, so nothing for Beat's built-in celery.backend_cleanup job to clean.
CELERY_RESULT_EXPIRES = None
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "orders.tasks.order_email_send": {"queue": "emails"},
    "shop.tasks.wine_low_stock_alert": {"queue": "emails"},
    "reports.tasks.*": {"queue": "reports"},
    "coupons.tasks.coupon_batch_generate": {"queue": "reports"},
}
# Emails take about a second; reports set longer limits of their own.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Where staff open Flower, linked from the admin sidebar and the workers card on the admin
# index: its public address (https://FLOWER_DOMAIN/ behind docker compose's proxy), else where
# `make run` starts it. FLOWER_URL is its older name, still read.
FLOWER_PUBLIC_URL = env(
    "FLOWER_PUBLIC_URL",
    default=env("FLOWER_URL", default="")
    or (
        f"https://{env('FLOWER_DOMAIN')}/"
        if env("FLOWER_DOMAIN", default="")
        else f"http://127.0.0.1:{env.int('FLOWER_PORT', default=5555)}/"
    ),
)
FLOWER_URL = FLOWER_PUBLIC_URL

# --- Email -----------------------------------------------------------------------------------
# smtp+tls://user:password@host:587 in production; files under var/mail by default.
_email = env.email_url("EMAIL_URL", default="filemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Wine-Shop <orders@wine-shop.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where customers write with questions: in every email's footer and its Reply-To.
SHOP_CONTACT_EMAIL = env(
    "SHOP_CONTACT_EMAIL", default=parseaddr(DEFAULT_FROM_EMAIL)[1] or "orders@wine-shop.localhost"
)
# Staff alerts go here; when empty, to every active staff member with an email address.
STAFF_ALERT_EMAILS = env.list("STAFF_ALERT_EMAILS", default=[])

# --- Static and media files ------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Wine photos are served by backoffice.media at /media/ from the "media" storage below.
MEDIA_URL = "/media/"
# Where wine photos were kept before they moved to the database: `manage.py move_wine_images`
# reads them from here once.
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Invoices, reports and uploaded imports: in the database, which every machine shares.
    "private": {"BACKEND": "core.storage.DatabaseStorage"},
    # Public media (wine photos): the same table under a prefix of their own, served to anyone.
    "media": {"BACKEND": "core.storage.PublicDatabaseStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Shop ------------------------------------------------------------------------------------
SHOP_NAME = env("SHOP_NAME", default="Wine-Shop")
# Where customers reach the shop: the start of every link an email carries.
SHOP_URL = env("SHOP_URL", default="http://127.0.0.1:8000")
# A customer's link to their order works this long after it was made; then they ask for another.
ORDER_LINK_MAX_AGE_DAYS = env.int("ORDER_LINK_MAX_AGE_DAYS", default=90)
# ISO 4217 code of the one currency the shop sells in.
SHOP_CURRENCY = env("SHOP_CURRENCY", default="EUR")
SHOP_CURRENCY_SYMBOL = env("SHOP_CURRENCY_SYMBOL", default="€")
# ISO 3166 code of the shop's own country: click & collect is a sale there, taxed at its rate
# (its destination row, else VAT_RATE below).
SHOP_COUNTRY = env("SHOP_COUNTRY", default="FR")
# Shown at the foot of every shop page; word it as the law of the shop's country requires.
SHOP_LEGAL_NOTICE = env(
    "SHOP_LEGAL_NOTICE",
    default="Alcohol is not sold to anyone under 18. Alcohol abuse is dangerous for your "
    "health: drink in moderation.",
)
WINES_PER_PAGE = 24
CART_MAX_QUANTITY = env.int("CART_MAX_QUANTITY", default=120)
# Wine photos uploaded in the admin: largest file in bytes, and most pixels (width x height),
# checked from the header before decoding, against images that decompress to gigabytes.
WINE_IMAGE_MAX_BYTES = env.int("WINE_IMAGE_MAX_BYTES", default=10 * 1024 * 1024)
WINE_IMAGE_MAX_PIXELS = env.int("WINE_IMAGE_MAX_PIXELS", default=40_000_000)
# Unpaid orders older than this are expired and their bottles go back on sale.
ORDER_UNPAID_EXPIRY_MINUTES = env.int("ORDER_UNPAID_EXPIRY_MINUTES", default=24 * 60)
# An order whose customer never opened Stripe's payment page holds its bottles this long only.
ORDER_UNREACHED_HOLD_MINUTES = env.int("ORDER_UNREACHED_HOLD_MINUTES", default=30)
# Order placements allowed per visitor's session, per client address (an IPv6 /64) and for the
# whole shop within the window (minutes); past one, checkout answers 429 until the window ends.
ORDER_PLACEMENTS_PER_SESSION = env.int("ORDER_PLACEMENTS_PER_SESSION", default=10)
ORDER_PLACEMENTS_PER_ADDRESS = env.int("ORDER_PLACEMENTS_PER_ADDRESS", default=30)
ORDER_PLACEMENTS_GLOBAL = env.int("ORDER_PLACEMENTS_GLOBAL", default=1000)
ORDER_PLACEMENTS_WINDOW_MINUTES = env.int("ORDER_PLACEMENTS_WINDOW_MINUTES", default=60)
# Orders awaiting payment one session, one client address (an IPv6 /64) and one email address
# may hold at once: a new one is refused until one of them is paid or expires.
ORDER_OPEN_PER_SESSION = env.int("ORDER_OPEN_PER_SESSION", default=3)
ORDER_OPEN_PER_ADDRESS = env.int("ORDER_OPEN_PER_ADDRESS", default=10)
ORDER_OPEN_PER_EMAIL = env.int("ORDER_OPEN_PER_EMAIL", default=3)

# --- Coupons ---------------------------------------------------------------------------------
# Batches up to this many codes are generated while the merchant waits; larger ones by a worker.
COUPON_BATCH_SYNC_MAX = env.int("COUPON_BATCH_SYNC_MAX", default=2_000)
# Failed coupon attempts allowed per visitor's session and per client address in the window.
COUPON_ATTEMPTS_PER_SESSION = env.int("COUPON_ATTEMPTS_PER_SESSION", default=10)
COUPON_ATTEMPTS_PER_ADDRESS = env.int("COUPON_ATTEMPTS_PER_ADDRESS", default=50)
COUPON_ATTEMPTS_WINDOW_MINUTES = env.int("COUPON_ATTEMPTS_WINDOW_MINUTES", default=15)
# Failed coupon attempts of all visitors together in the window: past it, no code is checked
# for anyone until the window ends (a breaker against guessing from many addresses).
COUPON_FAILURES_GLOBAL = env.int("COUPON_FAILURES_GLOBAL", default=500)

# Emails still unsent this long after their order are queued again by the sweep.
EMAIL_RETRY_AFTER_MINUTES = env.int("EMAIL_RETRY_AFTER_MINUTES", default=2)
# An email the mail server keeps deferring (4xx, unreachable) is tried this many times, the
# pause doubling from EMAIL_RETRY_AFTER_MINUTES up to an hour (about 5 hours with the defaults),
# then marked failed and staff alerted. A refused recipient (5xx) fails at once.
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=10)
MONEY_PLACES = Decimal("0.01")
# Catalog files up to this size are checked and imported during the admin's request; larger
# ones go to a Celery worker, which reports its progress in the admin.
IMPORT_SYNC_MAX_BYTES = env.int("IMPORT_SYNC_MAX_BYTES", default=5 * 1024 * 1024)
# Largest catalog file the admin accepts at all (the import_wines command has no limit).
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
# Largest request body any page takes, refused (413) from its Content-Length before it is read;
# the import's upload is the largest. The reverse proxy in front sets the same limit
# (client_max_body_size / request_body max_size).
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=IMPORT_MAX_BYTES + 1024 * 1024)
# What one import file may hold (CSV or XLSX), checked before and while it is read, so that a
# small file that unpacks or expands to gigabytes is refused instead of exhausting a worker.
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=200_000)
IMPORT_MAX_COLUMNS = env.int("IMPORT_MAX_COLUMNS", default=50)
IMPORT_MAX_CELL_CHARS = env.int("IMPORT_MAX_CELL_CHARS", default=65_536)
# An .xlsx is a zip: its parts unpacked, and how much a part (over 1 MB) or the whole workbook
# unpacks per byte (spreadsheet programs write about 5-20; a zip bomb 1000).
IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES = env.int(
    "IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES", default=128 * 1024 * 1024
)
IMPORT_XLSX_MAX_RATIO = env.int("IMPORT_XLSX_MAX_RATIO", default=100)

# --- Reports and invoices ------------------------------------------------------------------
# The seller's identity printed on every invoice: legal name, address lines ("|" between lines),
# VAT identification number and company registration number (left off the invoice when empty).
SHOP_LEGAL_NAME = env("SHOP_LEGAL_NAME", default=SHOP_NAME)
SHOP_ADDRESS = [
    line.strip()
    for line in env("SHOP_ADDRESS", default="12 quai des Chartrons|33000 Bordeaux|France").split(
        "|"
    )
    if line.strip()
]
SHOP_VAT_NUMBER = env("SHOP_VAT_NUMBER", default="")
SHOP_COMPANY_NUMBER = env("SHOP_COMPANY_NUMBER", default="")
SHOP_INVOICE_EMAIL = env("SHOP_INVOICE_EMAIL", default="")
# Prices include VAT at this rate; invoices show the VAT the total contains.
VAT_RATE = Decimal(env("VAT_RATE", default="0.20"))
# Invoice numbers read PREFIX-YEAR-NNNNNN, gap-free within each year.
INVOICE_NUMBER_PREFIX = env("INVOICE_NUMBER_PREFIX", default="INV")
# Credit notes, a series of their own: CN-YEAR-NNNNNN.
CREDIT_NOTE_NUMBER_PREFIX = env("CREDIT_NOTE_NUMBER_PREFIX", default="CN")
# The morning sales report goes to these addresses and to the active staff of the group below.
REPORT_EMAILS = env.list("REPORT_EMAILS", default=[])
REPORT_GROUP = env("REPORT_GROUP", default="Merchants")

# --- Stripe ----------------------------------------------------------------------------------
# sk_test_... or sk_live_...; without one, the SDK talks to the local sandbox (development only).
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
# The signing secret of the webhook endpoint (whsec_...): Stripe's dashboard or `stripe listen`.
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
# The local Stripe stand-in (payments/sandbox), allowed only with DEBUG on.
STRIPE_SANDBOX_URL = env("STRIPE_SANDBOX_URL", default="http://127.0.0.1:12111")
STRIPE_SANDBOX_ALLOWED = DEBUG
# Seconds a call to Stripe may take per try before the customer is asked to try again (the SDK
# tries 3 times in all).
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=10)
# Seconds the payment page may spend on Stripe in all (every call, retry and pause) before it
# shows the retry page: well below GUNICORN_TIMEOUT, so that a slow Stripe never ties up the
# workers that serve the whole shop.
STRIPE_REQUEST_BUDGET_SECONDS = env.float("STRIPE_REQUEST_BUDGET_SECONDS", default=8)
# Seconds a "Reconcile payments" run spends asking Stripe about pending orders; the next run
# goes on from where it stopped.
STRIPE_RECONCILE_SECONDS = env.float("STRIPE_RECONCILE_SECONDS", default=240)
# How long a Checkout Session stays payable: Stripe accepts 30 minutes to 24 hours.
STRIPE_CHECKOUT_EXPIRY_MINUTES = min(
    max(env.int("STRIPE_CHECKOUT_EXPIRY_MINUTES", default=60), 30), 24 * 60
)

# --- Admin (django-unfold: https://unfoldadmin.com/docs/configuration/settings/) --------------
UNFOLD = {
    "SITE_TITLE": f"{SHOP_NAME} back office",
    "SITE_HEADER": SHOP_NAME,
    "SITE_SUBHEADER": "Back office",
    "SITE_URL": "/",
    "SITE_SYMBOL": "wine_bar",
    "SHOW_HISTORY": True,
    "DASHBOARD_CALLBACK": "backoffice.dashboard.dashboard_callback",
    # The admin login form, throttled against password guessing (backoffice/login.py).
    "LOGIN": {"form": "backoffice.login.ThrottledAuthenticationForm"},
    # The shop's burgundy (static/shop/shop.css --wine is 600, --wine-dark 800), a hue apart
    # from the red unfold keeps for errors and Delete, so a primary button never reads as one.
    "COLORS": {
        "primary": {
            "50": "#fef2f6",
            "100": "#fce2ea",
            "200": "#f9c6d4",
            "300": "#ee9cb1",
            "400": "#d46784",
            "500": "#af3d5d",
            "600": "#7b1e3a",
            "700": "#6a1732",
            "800": "#5a1029",
            "900": "#450b1f",
            "950": "#290510",
        },
    },
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": "backoffice.admin_navigation.sidebar",
    },
}

# --- Logging (https://docs.djangoproject.com/en/5.2/topics/logging/) --------------------------
# Everything goes to stdout, where the container runtime or `make run` collects it.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
