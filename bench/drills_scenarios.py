"""The Django side of the drills (bench/drills.py runs ``drills_scenarios.py <command> ...`` in
a subprocess with the drills' environment): seed the catalog, feed the webhook during the load,
staff refunds during the load, the webhook storm, the Stripe timeout, the books. Each command
prints its result as JSON."""

import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import seed_places

WINES = 200
CART_WINES = 40  # the wines the carts fill up with
STOCK = 100_000  # bottles of each wine: the load never sells one out
SWEEP_SECONDS = 15  # how often beat runs "Send unsent order emails" in the drills
STORM_ROUNDS = 20  # of three orders each, every event twice, out of order
STORM_THREADS = 8
FLOOD_DOMAIN = "flood.drills.example"  # the emails of the checkout flood's orders
REFUND_EVERY = 1.2  # seconds between the staff refunds of the load: a few dozen in a minute
REFUND_AMOUNT = "5.00"  # a goodwill refund, or half the order when it is smaller
SETTLE_TIMEOUT = 180  # seconds the refunds may take to settle after the faults


def seed() -> dict:
    """Create the catalog (every wine STOCK bottles) and the schedule; return what wrk needs."""
    import random
    from decimal import Decimal

    from django.utils.text import slugify
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from backoffice.schedule import setup_schedule
    from shop.models import Category, Region, Wine

    rng = random.Random(9)
    seed_places(("North", "South"))
    categories = list(Category.objects.all())
    regions = list(Region.objects.select_related("country"))
    wines = []
    for i in range(WINES):
        region = rng.choice(regions)
        name = f"Cuvée des Essais {i:03d}"
        wines.append(
            Wine(
                sku=f"D{i:04d}",
                name=name,
                slug=slugify(name),
                producer=f"Domaine {rng.choice(['Alpha', 'Beta', 'Gamma'])}",
                vintage=rng.choice([None, *range(2005, 2024)]),
                category=rng.choice(categories),
                country=region.country,
                region=region,
                price=Decimal(rng.randrange(800, 6000)).scaleb(-2),
                stock=STOCK,
                available=True,
            )
        )
    Wine.objects.bulk_create(wines)
    setup_schedule()
    every, _ = IntervalSchedule.objects.get_or_create(
        every=SWEEP_SECONDS, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.filter(task="orders.tasks.order_email_send_pending").update(interval=every)
    listed = Wine.objects.order_by("pk")
    return {
        "wines": [[w.pk, w.slug, int(w.price * 100)] for w in listed.only("slug", "price")],
        "categories": [c.slug for c in categories],
        "countries": sorted({r.country.slug for r in regions}),
    }


def post_json(port: int, body: str, signature: str) -> int:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/json", "Stripe-Signature": signature}
        conn.request("POST", "/payment/webhook/", body, headers)
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        conn.close()


def feed(seconds: str, port: str, out: str) -> dict:
    """Until the time is up, send signed Stripe events for the orders the load places: most get
    paid (some through a delayed payment), some lapse, the rest stay pending; a share of the
    events is delivered twice and each batch goes out shuffled. Write the expected final state
    of each order to `out`."""
    import random

    from orders.models import Order
    from payments.tests.factories import checkout_session, event, signed
    from payments.tests.sandbox import sandbox_payment

    def paying(session: dict) -> dict:
        # Stripe holds the money of every order the drills pay, so that it can be refunded.
        sandbox_payment(
            sandbox,
            amount_minor=session["amount_total"],
            currency=session["currency"],
            payment_intent=session["payment_intent"],
        )
        return session

    sandbox = drills_sandbox()
    rng, deadline, last = random.Random(4), time.monotonic() + float(seconds), 0
    expected, answers, unique, sent = {}, Counter(), 0, 0
    while time.monotonic() < deadline:
        batch = []
        for order in Order.objects.filter(pk__gt=last).order_by("pk")[:200]:
            last, roll = order.pk, rng.random()
            if order.status != Order.Status.PENDING or order.email.endswith(FLOOD_DOMAIN):
                continue  # a flood's scripts never pay
            if roll < 0.6:
                paid = paying(checkout_session(order))
                batch.append(event("checkout.session.completed", paid))
                expected[order.pk] = Order.Status.PAID
            elif roll < 0.7:
                waiting = paying(checkout_session(order, payment_status="unpaid"))
                paid = {**waiting, "payment_status": "paid"}
                batch.append(event("checkout.session.completed", waiting))
                batch.append(event("checkout.session.async_payment_succeeded", paid))
                expected[order.pk] = Order.Status.PAID
            elif roll < 0.8:
                lapsed = checkout_session(order, status="expired", payment_status="unpaid")
                batch.append(event("checkout.session.expired", lapsed))
                expected[order.pk] = Order.Status.EXPIRED
            else:
                expected[order.pk] = Order.Status.PENDING
        deliveries = batch + [e for e in batch if rng.random() < 0.3]
        rng.shuffle(deliveries)
        unique += len(batch)
        for delivery in deliveries:
            body, headers = signed(delivery)
            answers[post_json(int(port), body, headers["HTTP_STRIPE_SIGNATURE"])] += 1
            sent += 1
        time.sleep(0.5)
    Path(out).write_text(json.dumps(expected))
    return {"orders": len(expected), "events": unique, "deliveries": sent, "answers": answers}


def drills_sandbox():
    """Return the drills' Stripe sandbox, as the sandbox's controls take it."""
    from types import SimpleNamespace

    from django.conf import settings

    return SimpleNamespace(base_url=settings.STRIPE_SANDBOX_URL)


def refunds(seconds: str, out: str) -> dict:
    """Until the time is up, refund paid orders as staff do in the admin, one every
    REFUND_EVERY seconds: by turns one bottle back on sale, or an amount alone. Each goes to
    Stripe through the worker (payments.refunds.refund_submit). Write when each was asked to
    `out`."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from core.exceptions import DomainError
    from orders.models import Order
    from orders.refunds import RefundLineRequest, refund_request

    staff, _ = get_user_model().objects.get_or_create(
        username="drills-staff", defaults={"is_staff": True}
    )
    deadline, asked, refused, turn = time.monotonic() + float(seconds), {}, Counter(), 0
    while time.monotonic() < deadline:
        time.sleep(REFUND_EVERY)
        order = (
            Order.objects.filter(status=Order.Status.PAID, refunds_committed=0)
            .exclude(payment_intent="")
            .exclude(email__endswith=FLOOD_DOMAIN)
            .order_by("?")
            .first()
        )
        if order is None:
            continue
        turn += 1
        try:
            if turn % 2:
                item = order.items.order_by("pk").first()
                line = RefundLineRequest(item_id=item.pk, quantity=1, restock=True)
                refund = refund_request(
                    order_id=order.pk, lines=[line], reason="Returned bottle", actor=staff
                )
            else:
                amount = min(Decimal(REFUND_AMOUNT), (order.total / 2).quantize(Decimal("0.01")))
                refund = refund_request(
                    order_id=order.pk, amount=amount, reason="Goodwill", actor=staff
                )
        except DomainError as error:
            refused[type(error).__name__] += 1
            continue
        asked[refund.pk] = time.time()
    Path(out).write_text(json.dumps(asked))
    return {"asked": len(asked), "refused": refused}


def refunds_settle() -> dict:
    """Run the refunds' reconciliation now, as beat would a few minutes after the broker came
    back, for every refund still pending; then wait until each refund has settled and each that
    succeeded has its credit note and its email."""
    from orders.models import OrderEmail, Refund
    from payments.refunds import refund_reconcile
    from reports.models import CreditNote

    reconciled = refund_reconcile(older_than_minutes=0)
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        pending = Refund.objects.filter(status=Refund.Status.PENDING).count()
        succeeded = Refund.objects.filter(status=Refund.Status.SUCCEEDED)
        missing = succeeded.exclude(
            pk__in=CreditNote.objects.exclude(file="").values("refund")
        ).count()
        unmailed = succeeded.exclude(
            pk__in=OrderEmail.objects.filter(kind=OrderEmail.Kind.REFUND).values("refund")
        ).count()
        if not (pending or missing or unmailed) or time.monotonic() > deadline:
            break
        time.sleep(2)
    return {
        "reconciled": reconciled,
        "pending": pending,
        "without_credit_note": missing,
        "without_email": unmailed,
    }


def refunds_report(asked_path: str, start: str, end: str, killed: str) -> dict:
    """Return what became of the load's refunds, of those asked while the broker was away, and
    of the one whose credit note a worker was killed storing; and Stripe's word on the money of
    every refunded order."""
    from django.db.models import Count, Q

    from backoffice.books import books_stripe_check
    from orders.emails import TEMPLATES
    from orders.models import OrderEmail, Refund
    from payments import stripe_client
    from reports.models import CreditNote

    asked = {int(pk): t for pk, t in json.loads(Path(asked_path).read_text()).items()}
    rows = Refund.objects.filter(pk__in=asked).annotate(
        n_notes=Count("credit_note", distinct=True),
        n_emails=Count("emails", filter=Q(emails__kind=OrderEmail.Kind.REFUND), distinct=True),
        n_sent=Count(
            "emails",
            filter=Q(emails__kind=OrderEmail.Kind.REFUND, emails__sent_at__isnull=False),
            distinct=True,
        ),
        n_restocking=Count("lines", filter=Q(lines__restock=True), distinct=True),
    )

    def at_stripe(refund: Refund) -> int:
        found = stripe_client.refund_list(payment_intent=refund.order.payment_intent)
        return sum(1 for r in found if r.get("metadata", {}).get("refund_id") == str(refund.pk))

    def figures(refunds: list) -> dict:
        return {
            "asked": len(refunds),
            "succeeded": sum(r.status == Refund.Status.SUCCEEDED for r in refunds),
            "restocked": sum(r.n_restocking for r in refunds),
            "credit_notes": sum(r.n_notes for r in refunds),
            "emails": sum(r.n_emails for r in refunds),
            "sent": sum(r.n_sent for r in refunds),
        }

    every = list(rows.select_related("order"))
    away = [r for r in every if float(start) <= asked[r.pk] <= float(end)]
    facts = {"load": figures(every), "away": figures(away)}
    facts["away"]["at_stripe"] = sum(at_stripe(r) for r in away)
    facts["killed"] = {"name": killed, "notes": 0, "emails": 0, "subject": ""}
    note = CreditNote.objects.filter(file=killed).select_related("refund__order").first()
    if killed and note is None:  # its file was never stored: find it by its number
        number = Path(killed).stem.removeprefix("credit-note-")
        note = CreditNote.objects.filter(number=number).select_related("refund__order").first()
    if note is not None:
        refund = note.refund
        facts["killed"] |= {
            "number": note.number,
            "notes": CreditNote.objects.filter(refund=refund).count(),
            "stored": bool(note.file),
            "emails": OrderEmail.objects.filter(refund=refund).count(),
            "subject": str(TEMPLATES[OrderEmail.Kind.REFUND][1]) % {"number": refund.order.number},
        }
    check = books_stripe_check(order_ids=[r.order_id for r in every])
    facts["stripe"] = {"checked": check.checked, "wrong": check.wrong, "what": check.what}
    return facts


def storm(port: str, out: str) -> dict:
    """Deliver every event of STORM_ROUNDS x 3 orders twice, shuffled, STORM_THREADS at once."""
    import random
    from concurrent.futures import ThreadPoolExecutor

    from coupons.models import Coupon
    from payments.tests.factories import out_of_order_deliveries, signed
    from shop.models import Wine

    rng = random.Random(7)
    coupon = Coupon.objects.create(code="DRILLS-STORM", percent_off=10)
    wine_ids = list(Wine.objects.order_by("pk").values_list("pk", flat=True)[:CART_WINES])
    expected, deliveries = {}, []
    for round_number in range(STORM_ROUNDS):
        wine_id = wine_ids[round_number % len(wine_ids)]
        states, events = out_of_order_deliveries(wine_id=wine_id, coupon_code=coupon.code)
        expected |= states
        deliveries += events
    rng.shuffle(deliveries)
    signed_deliveries = [signed(d) for d in deliveries]
    with ThreadPoolExecutor(STORM_THREADS) as pool:
        answers = Counter(
            pool.map(
                lambda d: post_json(int(port), d[0], d[1]["HTTP_STRIPE_SIGNATURE"]),
                signed_deliveries,
            )
        )
    Path(out).write_text(json.dumps(expected))
    applied_within = events_applied(timeout=120)
    coupon.refresh_from_db()
    return {
        "orders": len(expected),
        "applied_within_s": applied_within,
        "deliveries": len(deliveries),
        "answers": answers,
        "coupon_uses": coupon.uses,
        "coupon_uses_expected": STORM_ROUNDS,
    }


def events_applied(*, timeout: float) -> float | None:
    """Wait until the worker has applied every stored Stripe event; return the seconds it
    took, or None if some still wait after `timeout`."""
    import time

    from payments.models import StripeEvent

    start = time.monotonic()
    while StripeEvent.objects.filter(applied__isnull=True).exists():
        if time.monotonic() - start > timeout:
            return None
        time.sleep(0.5)
    return round(time.monotonic() - start, 1)


def stripe_timeout(wine_id: str) -> dict:
    """Check out, then pay while Stripe takes the connection and never answers; then again
    with Stripe back (the local sandbox)."""
    from django.conf import settings
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse

    from orders.models import Order
    from orders.tests.factories import CHECKOUT_FIELDS
    from payments import stripe_client
    from payments.tests.sandbox import running_sandbox, silent_server
    from shop.models import Wine

    wine = Wine.objects.get(pk=int(wine_id))
    client = Client(HTTP_HOST="127.0.0.1")
    client.post(reverse("shop:cart_add", args=[wine.pk]), {"quantity": 2})
    fields = {**CHECKOUT_FIELDS, "expected_total": str(wine.price * 2)}
    placed = client.post(reverse("orders:checkout"), fields)
    number = placed["Location"].rstrip("/").rsplit("/", 1)[-1]
    process = placed["Location"]
    result = {"number": number}
    with override_settings(STRIPE_SANDBOX_ALLOWED=True, STRIPE_TIMEOUT_SECONDS=1):
        with silent_server() as url, override_settings(STRIPE_SANDBOX_URL=url):
            stripe_client._client.cache_clear()
            start = time.monotonic()
            response = client.get(process)
            result["waited"] = time.monotonic() - start
        result["status"] = response.status_code
        result["message"] = "Our payment provider did not answer" in response.content.decode()
        order = Order.objects.get(number=number)
        result["pending"] = order.status == Order.Status.PENDING and not order.stripe_session_id
        with running_sandbox(settings) as server:
            retry = client.get(process)
            result["retry_status"] = retry.status_code
            result["retry_to_stripe"] = retry.get("Location", "").startswith(server.base_url)
        stripe_client._client.cache_clear()
    order.refresh_from_db()
    result["retry_pending"] = order.status == Order.Status.PENDING and bool(order.stripe_session_id)
    return result


def books(initial: str, emails_sent: str, *expected_files: str) -> dict:
    """Run the books check, and compare each order with the state its events should leave."""
    from django.db.models import Count

    from backoffice.books import books_check
    from orders.models import Order, OrderEmail

    stock = {int(pk): count for pk, count in json.loads(Path(initial).read_text()).items()}
    checks = books_check(initial_stock=stock, emails_sent=emails_sent == "1")
    expected = {}
    for path in expected_files:
        expected |= {int(pk): s for pk, s in json.loads(Path(path).read_text()).items()}
    actual = dict(Order.objects.filter(pk__in=expected).values_list("pk", "status"))
    wrong = [
        f"#{pk}: {actual.get(pk)} not {s}" for pk, s in expected.items() if actual.get(pk) != s
    ]
    statuses = dict(Order.objects.values_list("status").annotate(n=Count("id")))
    return {
        "checks": [
            {"name": c.name, "what": c.what, "checked": c.checked, "wrong": c.wrong} for c in checks
        ],
        "states": {"checked": len(expected), "wrong": wrong},
        "statuses": statuses,
        "unsent": OrderEmail.objects.filter(sent_at__isnull=True).count(),
        "emails": OrderEmail.objects.count(),
    }


def outage_orders(start: str, end: str) -> dict:
    """Return the orders placed while the broker was away, and how many of their emails are sent."""
    from datetime import UTC, datetime

    from orders.models import Order, OrderEmail

    window = [datetime.fromtimestamp(float(t), tz=UTC) for t in (start, end)]
    orders = Order.objects.filter(created__range=window)
    emails = OrderEmail.objects.filter(order__in=orders)
    return {
        "orders": orders.count(),
        "emails": emails.count(),
        "sent": emails.filter(sent_at__isnull=False).count(),
    }


def flood_orders(start: str, end: str) -> dict:
    """Return what the checkout flood left: its orders, the bottles they hold, the emails owed
    to its addresses, and the customers' orders placed while it ran."""
    from datetime import UTC, datetime

    from django.db.models import F, Sum

    from backoffice.books import HOLDING_STOCK
    from orders.models import Order, OrderEmail, OrderItem

    window = [datetime.fromtimestamp(float(t), tz=UTC) for t in (start, end)]
    flood = Order.objects.filter(email__endswith=f"@{FLOOD_DOMAIN}")
    held = OrderItem.objects.filter(order__in=flood, order__status__in=HOLDING_STOCK)
    return {
        "orders": flood.count(),
        "held": held.aggregate(n=Sum(F("quantity") - F("restocked_quantity")))["n"] or 0,
        "emails": OrderEmail.objects.filter(order__in=flood).count(),
        "real_orders": Order.objects.filter(created__range=window)
        .exclude(email__endswith=f"@{FLOOD_DOMAIN}")
        .count(),
    }


def django_main(command: str, *args: str) -> None:
    import django

    django.setup()
    commands = {"seed": seed, "feed": feed, "storm": storm, "stripe": stripe_timeout}
    commands |= {"books": books, "outage": outage_orders, "flood": flood_orders}
    commands |= {"refunds": refunds, "settle": refunds_settle, "refunds_report": refunds_report}
    print(json.dumps(commands[command](*args), default=str))


if __name__ == "__main__":
    django_main(*sys.argv[1:])
