"""The production stack, run natively: gunicorn, a worker and beat as the Procfile starts them,
with production's settings, against PostgreSQL and RabbitMQ; a customer's path through it.

The TLS-terminating proxy is played by the client: it sends X-Forwarded-Proto: https, and keeps
the secure cookies it is given, as a browser would over HTTPS.
"""

import re
from decimal import Decimal

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import Group

from backoffice.tests.production import ProcfileProcess, manage, production_env, shared_cache_url
from backoffice.tests.test_flower import free_port
from backoffice.tests.workers import database_url, wait_for
from orders.models import Order
from orders.tests.factories import CHECKOUT_FIELDS
from orders.tests.test_worker import sent_mails
from payments.tests.sandbox import running_sandbox
from shop.tests.factories import WineFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.worker,
]

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


class Stack:
    """gunicorn, a worker and beat with production's environment; stopped even on failure."""

    def __init__(self, folder, *, port: int, mail_dir, settings):
        self.folder = folder
        self.port = port
        self.url = self.plain_url = f"http://127.0.0.1:{self.port}"
        # Where production's settings send plain HTTP: the same host and port, over HTTPS.
        self.secure_origin = f"https://127.0.0.1:{self.port}"
        self.env = production_env(
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            DJANGO_CSRF_TRUSTED_ORIGINS=f"https://127.0.0.1:{self.port}",
            DATABASE_URL=database_url(),
            CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
            CACHE_URL=shared_cache_url(folder),
            STATIC_ROOT=str(folder / "static"),
            EMAIL_URL="filemail://",
            EMAIL_FILE_PATH=str(mail_dir),
            STRIPE_SECRET_KEY="",
            STRIPE_SANDBOX_URL=settings.STRIPE_SANDBOX_URL,
            STRIPE_WEBHOOK_SECRET=settings.STRIPE_WEBHOOK_SECRET,
            GUNICORN_BIND=f"127.0.0.1:{self.port}",
            GUNICORN_WORKERS="2",
            GUNICORN_ACCESS_LOG="-",
            CELERY_WORKER_CONCURRENCY="1",
        )
        self.processes: list[ProcfileProcess] = []

    def setup(self) -> None:
        """Run what the image's build and compose's setup service run before the processes."""
        for command in (
            ["collectstatic", "--noinput"],
            ["migrate", "--noinput"],
            ["setup_schedule"],
            ["setup_roles"],
            ["prepare_broker"],
        ):
            result = manage(*command, env=self.env)
            assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"

    def start(self) -> None:
        # gunicorn with the sandbox allowed: the only difference from backoffice.settings.
        web_env = self.env | {"DJANGO_SETTINGS_MODULE": "backoffice.tests.production_settings"}
        self.web = self._start("web", web_env)
        self.worker = self._start("worker", self.env)
        self.beat = self._start("beat", self.env)
        wait_for(self._web_answers, timeout=60, what="gunicorn to answer")
        wait_for(lambda: "ready." in self.worker.output(), timeout=60, what="the worker")
        wait_for(lambda: "beat: Starting" in self.beat.output(), timeout=60, what="beat")

    def _start(self, name: str, env: dict) -> ProcfileProcess:
        process = ProcfileProcess(name, env=env, log=self.folder / f"{name}.log")
        self.processes.append(process)
        return process

    def _web_answers(self) -> bool:
        assert self.web.process.poll() is None, self.web.output()
        try:
            # While its workers load Django, gunicorn accepts connections without answering.
            requests.get(f"{self.url}/healthz", timeout=10)
        except (requests.ConnectionError, requests.Timeout):
            return False
        return True

    def stop(self) -> None:
        for process in self.processes:
            process.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {p.log.name}\n{p.output()[-3000:]}" for p in self.processes)


class Customer(requests.Session):
    """A browser behind the TLS proxy: every request arrives at gunicorn as HTTPS."""

    def __init__(self, stack: Stack):
        super().__init__()
        self.base = stack.url
        # The proxy's own certificate when the customer goes through one (make image-test).
        self.verify = getattr(stack, "verify", True)
        self.headers.update(
            {"X-Forwarded-Proto": "https", "Origin": f"https://127.0.0.1:{stack.port}"}
        )

    def request(self, method, url, *args, headers=None, **kwargs):
        # Session and CSRF cookies are Secure: over HTTPS the browser sends them back, which
        # requests would not do over the plain HTTP between the proxy and gunicorn.
        cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.cookies)
        headers = {"Cookie": cookies, **(headers or {})} if cookies else headers
        # Given per request: requests lets REQUESTS_CA_BUNDLE win over the session's own.
        kwargs.setdefault("verify", self.verify)
        return super().request(method, url, *args, headers=headers, **kwargs)

    def page(self, path: str, **kwargs) -> requests.Response:
        return self.get(self._url(path), timeout=20, allow_redirects=False, **kwargs)

    def submit(self, path: str, form_page: requests.Response, data: dict) -> requests.Response:
        fields = dict(HIDDEN.findall(form_page.text)) | data
        return self.post(self._url(path), data=fields, timeout=20, allow_redirects=False)

    def _url(self, path: str) -> str:
        # What the proxy does to the absolute https:// addresses the shop gives out.
        path = re.sub(r"^https://127\.0\.0\.1(:\d+)?", "", path)
        return path if path.startswith("http") else f"{self.base}{path}"


@pytest.fixture
def stack(production_services, real_broker, tmp_path, mail_dir, settings):
    port = free_port()
    webhook_url = f"http://127.0.0.1:{port}/payment/webhook/"
    with running_sandbox(settings, webhook_url=webhook_url):
        stack = Stack(tmp_path, port=port, mail_dir=mail_dir, settings=settings)
        try:
            stack.setup()
            stack.start()
            yield stack
        finally:
            stack.stop()
            print(stack.logs())  # shown by pytest when the test failed


def test_a_customer_buys_and_pays_through_the_production_stack(
    stack, mail_dir, django_user_model, settings
):
    customer_buys_and_pays(
        stack, mail_dir=mail_dir, user_model=django_user_model, settings=settings
    )
    # Beat ran all along against the same database, with the schedule set up.
    assert stack.beat.process.poll() is None, stack.beat.output()
    assert "DatabaseScheduler" in stack.beat.output()


def customer_buys_and_pays(stack, *, mail_dir, user_model, settings) -> Order:
    """Buy and pay as a customer, then find the order and its invoice as a merchant."""
    wine = WineFactory(name="Château Lagrézette", price=Decimal("24.90"), stock=6)
    customer = Customer(stack)

    # Production settings: plain HTTP is sent to HTTPS; behind the proxy the shop answers.
    insecure = requests.get(f"{stack.plain_url}/", timeout=20, allow_redirects=False)
    assert insecure.status_code == 301
    assert insecure.headers["Location"] == f"{stack.secure_origin}/"
    catalog = customer.page("/")
    assert catalog.status_code == 200, catalog.text
    assert "Château Lagrézette" in catalog.text
    assert "max-age=31536000" in catalog.headers["Strict-Transport-Security"]
    assert "script-src 'self';" in catalog.headers["Content-Security-Policy"]

    detail = customer.page(f"/wine/{wine.slug}/")
    assert detail.status_code == 200
    added = customer.submit(f"/cart/add/{wine.pk}/", detail, {"quantity": "2"})
    assert added.status_code == 302, added.text
    assert "2 bottles" in customer.page("/cart/").text

    checkout = customer.page("/orders/checkout/")
    assert checkout.status_code == 200
    placed = customer.submit(
        "/orders/checkout/",
        checkout,
        CHECKOUT_FIELDS,
    )
    assert placed.status_code == 302, placed.text
    to_stripe = customer.page(placed.headers["Location"])
    assert to_stripe.status_code == 303, to_stripe.text
    hosted_page = to_stripe.headers["Location"]
    assert hosted_page.startswith(settings.STRIPE_SANDBOX_URL)
    # The checkout's redirect to the payment page is one the CSP lets the browser follow.
    assert settings.STRIPE_SANDBOX_URL in to_stripe.headers["Content-Security-Policy"]

    payment_page = customer.get(hosted_page, timeout=20)
    action = re.search(r'<form method=post action="([^"]+)"', payment_page.text).group(1)
    paid = customer.post(
        f"{settings.STRIPE_SANDBOX_URL}{action}",
        data={"action": "pay"},
        timeout=20,
        allow_redirects=False,
    )
    assert paid.status_code in (302, 303), paid.text
    thanks = customer.page(paid.headers["Location"])
    assert thanks.status_code == 200
    assert "Thank you, Camille" in thanks.text

    order = Order.objects.get()
    wait_for(
        lambda: Order.objects.get(pk=order.pk).status == Order.Status.PAID,
        timeout=30,
        what="the webhook to mark the order paid",
    )

    # The worker sends one email, once paid: the order confirmation and receipt. The mail file
    # exists from the moment the backend opens it, before the message is written into it.
    def subjects() -> list[str]:
        found = (re.search(r"^Subject: (.*)$", mail, re.M) for mail in sent_mails(mail_dir))
        return sorted(subject[1] for subject in found if subject)

    wait_for(subjects, timeout=60, what="the worker to send the email")
    assert subjects() == [f"Order {order.number} confirmed and paid"]
    wine.refresh_from_db()
    assert wine.stock == 4

    # Load balancers: plain HTTP, any host.
    health = requests.get(
        f"{stack.plain_url}/healthz", headers={"Host": "10.0.3.7:8000"}, timeout=20
    )
    assert health.status_code == 200, health.text
    assert health.json()["status"] == "ok"

    # The back office: the login page, and a merchant who signs in sees the order.
    login = customer.page("/admin/login/")
    assert login.status_code == 200
    assert "'unsafe-eval'" in login.headers["Content-Security-Policy"]
    # Hashed as production hashes (the suite's own settings use a fast hasher production lacks).
    hasher = PBKDF2PasswordHasher()
    merchant = user_model.objects.create(
        username="merchant",
        password=hasher.encode("a-long-merchant-password", hasher.salt()),
        is_staff=True,
    )
    merchant.groups.add(Group.objects.get(name="Merchants"))
    signed_in = customer.submit(
        "/admin/login/?next=/admin/",
        login,
        {"username": "merchant", "password": "a-long-merchant-password", "next": "/admin/"},
    )
    assert signed_in.status_code == 302, signed_in.text
    orders = customer.page("/admin/orders/order/")
    assert orders.status_code == 200
    assert order.number in orders.text
    assert customer.page("/admin/django_celery_beat/periodictask/").status_code == 403

    # The invoice the worker made is stored where the web finds it, for the merchant to download.
    order_page = customer.page(f"/admin/orders/order/{order.pk}/change/")
    assert order_page.status_code == 200
    invoice = re.search(r'href="(/admin/files/invoices/\d+/download/)"', order_page.text)
    assert invoice, "no invoice link on the order page"
    pdf = customer.page(invoice[1])
    assert pdf.status_code == 200, pdf.text[:500]
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    return order
