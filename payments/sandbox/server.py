"""A Stripe-compatible HTTP server for the calls the shop makes (development and tests only).

    POST /v1/coupons                           create an amount-off coupon
    POST /v1/checkout/sessions                 create a Checkout Session
    GET  /v1/checkout/sessions/<id>            retrieve it
    POST /v1/checkout/sessions/<id>/expire     expire it (sends checkout.session.expired)
    POST /v1/refunds                           refund a payment (see ledger.py for what follows)
    GET  /v1/refunds/<id>, GET /v1/refunds     retrieve a refund; list them (newest first)
    GET  /v1/charges/<id>                      retrieve a payment's charge
    GET  /pay/<id>, POST /pay/<id>             the hosted page: Pay (with a test card), Decline
                                               or Cancel

and, for tests, drills and trying things by hand (Stripe's dashboard and test clock, here):

    GET|DELETE /_sandbox/requests              the API requests received
    GET  /_sandbox/events                      the events sent, and how their delivery went
    POST /_sandbox/payments                    a card payment made outside Checkout: amount,
                                               currency, card, payment_intent (its id, optional)
    POST /_sandbox/refunds                     a refund made in Stripe's dashboard: as POST
                                               /v1/refunds, with no request or metadata of ours
    POST /_sandbox/refunds/settle              give the refunds waiting for their later status
                                               (pending -> succeeded, succeeded -> failed) it now

It reads no Django settings: the management command `stripe_sandbox` passes them in.
"""

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from payments.sandbox import pages
from payments.sandbox.objects import CARDS, DECLINED_MESSAGE, DEFAULT_CARD
from payments.sandbox.state import Store
from payments.sandbox.webhooks import WebhookSender
from payments.sandbox.wire import StripeError, parse_form, random_id

logger = logging.getLogger(__name__)

DEFAULT_API_VERSION = "2025-08-27.basil"
SESSION = re.compile(r"/v1/checkout/sessions/(?P<id>[A-Za-z0-9_]+)")
EXPIRE = re.compile(r"/v1/checkout/sessions/(?P<id>[A-Za-z0-9_]+)/expire")
REFUND = re.compile(r"/v1/refunds/(?P<id>[A-Za-z0-9_]+)")
CHARGE = re.compile(r"/v1/charges/(?P<id>[A-Za-z0-9_]+)")
PAGE = re.compile(r"/pay/(?P<id>[A-Za-z0-9_]+)")
UNKNOWN_CARD = "This is not one of the sandbox's test cards."
CONTROLS = ("/_sandbox/payments", "/_sandbox/refunds", "/_sandbox/refunds/settle")
LOGGED_HEADERS = ("Authorization", "Idempotency-Key", "Stripe-Version", "Content-Type")


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        host: str,
        port: int,
        *,
        webhook_url: str | None,
        secret: str,
        state_path: str | None = None,
        sweep_seconds: float = 10.0,
        clock: Callable[[], float] = time.time,
        latency: float = 0.0,
    ):
        super().__init__((host, port), SandboxHandler)
        # Seconds every API call waits before it is handled: a slow Stripe, for tests and drills.
        self.latency = latency
        # A sandbox listening on every interface is still reached, by the browser, on this machine.
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else host  # noqa: S104
        self.base_url = f"http://{shown}:{self.server_address[1]}"
        self.webhooks = WebhookSender(webhook_url, secret)
        self.store = Store(
            base_url=self.base_url, on_event=self.webhooks.send, path=state_path, clock=clock
        )
        self._stopping = threading.Event()
        self._sweep_seconds = sweep_seconds
        threading.Thread(target=self._sweep, name="sandbox-expiry", daemon=True).start()

    def serve_until_interrupted(self) -> None:
        try:
            self.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self.server_close()

    def stop(self) -> None:
        """Stop a server that serve_forever() runs in another thread."""
        self.shutdown()
        self.server_close()

    def server_close(self) -> None:
        self._stopping.set()
        self.webhooks.stop()
        super().server_close()

    def _sweep(self) -> None:
        while not self._stopping.wait(self._sweep_seconds):
            self.store.expire_due()
            self.store.settle_due()


def start_in_thread(
    host: str = "127.0.0.1", port: int = 0, webhook_url: str | None = None, secret: str = "", **kw
) -> tuple[SandboxServer, threading.Thread]:
    """Start a sandbox serving from a daemon thread; port 0 picks a free one (server.base_url)."""
    server = SandboxServer(host, port, webhook_url=webhook_url, secret=secret, **kw)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="sandbox", daemon=True
    )
    thread.start()
    return server, thread


class SandboxHandler(BaseHTTPRequestHandler):
    server: SandboxServer
    server_version = "stripe-sandbox"

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def log_message(self, format, *args):
        logger.info("%s " + format, self.address_string(), *args)

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        if url.path.startswith("/v1/"):
            self._api(method, url.path, body or url.query)
        elif url.path == "/_sandbox/requests" and method in ("GET", "DELETE"):
            if method == "DELETE":
                self.server.store.clear_requests()
            self._json(200, self.server.store.requests() if method == "GET" else {"deleted": True})
        elif url.path == "/_sandbox/events" and method == "GET":
            self._json(200, self.server.webhooks.log())
        elif url.path in CONTROLS and method == "POST":
            self._control(url.path, body)
        elif (match := PAGE.fullmatch(url.path)) and method in ("GET", "POST"):
            self._page(method, match["id"], dict(parse_qsl(body)))
        else:
            self._html(404, pages.not_found_page(url.path))

    # -- the API ---------------------------------------------------------------------------

    def _api(self, method: str, path: str, form: str) -> None:
        request_id = random_id("req_", 14)
        headers = {"Request-Id": request_id}
        entry = {
            "method": method,
            "path": path,
            "form": {},
            "params": {},
            "headers": {name: self.headers[name] for name in LOGGED_HEADERS if self.headers[name]},
            "request_id": request_id,
            "status": None,  # until answered
        }
        try:
            entry["form"], entry["params"] = parse_form(form)
        except StripeError as error:
            malformed = error
        else:
            malformed = None
        # Logged on arrival, so that a request the client gave up waiting for still counts.
        self.server.store.log_request(entry)
        if self.server.latency:
            time.sleep(self.server.latency)
        try:
            if malformed is not None:
                raise malformed
            status, body, replayed = 200, *self._route(method, path, entry)
            if replayed:
                headers["Idempotent-Replayed"] = "true"
        except StripeError as error:
            status, body = error.status, error.as_json()
        except Exception:  # a bug of the sandbox's: answer as Stripe does, with an api_error
            logger.exception("%s %s failed.", method, path)
            status, body = 500, {"error": {"type": "api_error", "message": "Sandbox error."}}
        self.server.store.log_answer(entry, status=status)
        self._json(status, body, headers)

    def _route(self, method: str, path: str, entry: dict) -> tuple[dict, bool]:
        if not (self.headers["Authorization"] or "").startswith("Bearer "):
            raise StripeError(
                "You did not provide an API key. Set it as a Bearer token: "
                "'Authorization: Bearer sk_test_...'.",
                status=401,
            )
        store, params = self.server.store, entry["params"]
        key = self.headers["Idempotency-Key"]
        fingerprint = json.dumps([method, path, sorted(entry["form"].items())])
        version = self.headers["Stripe-Version"] or DEFAULT_API_VERSION
        if method == "POST" and path == "/v1/checkout/sessions":
            return store.idempotent(
                key, fingerprint, lambda: store.create_session(params, api_version=version)
            )
        if method == "POST" and path == "/v1/coupons":
            return store.idempotent(key, fingerprint, lambda: store.create_coupon(params))
        if method == "GET" and (match := SESSION.fullmatch(path)):
            _no_params(params)
            return store.get_session(match["id"]), False
        request = {"id": entry["request_id"], "idempotency_key": key}
        if method == "POST" and (match := EXPIRE.fullmatch(path)):
            _no_params(params)
            return store.idempotent(
                key, fingerprint, lambda: store.expire_session(match["id"], request=request)
            )
        if method == "POST" and path == "/v1/refunds":
            return store.idempotent(
                key, fingerprint, lambda: store.create_refund(params, request=request)
            )
        if method == "GET" and path == "/v1/refunds":
            return store.list_refunds(params), False
        if method == "GET" and (match := REFUND.fullmatch(path)):
            _no_params(params)
            return store.get_refund(match["id"]), False
        if method == "GET" and (match := CHARGE.fullmatch(path)):
            _no_params(params)
            return store.get_charge(match["id"]), False
        raise StripeError(
            f"Unrecognized request URL ({method}: {path}). The Stripe sandbox implements only "
            "creating amount-off coupons; creating, retrieving and expiring Checkout Sessions; "
            "creating, retrieving and listing refunds; and retrieving charges.",
            status=404,
        )

    # -- the controls ----------------------------------------------------------------------

    def _control(self, path: str, body: str) -> None:
        store = self.server.store
        try:
            _, params = parse_form(body)
            if path == "/_sandbox/payments":
                version = self.headers["Stripe-Version"] or DEFAULT_API_VERSION
                answer = store.create_payment(params, api_version=version)
            elif path == "/_sandbox/refunds":
                answer = store.dashboard_refund(params)
            else:
                _no_params(params)
                answer = {"settled": store.settle_refunds()}
        except StripeError as error:
            self._json(error.status, error.as_json())
        else:
            self._json(200, answer)

    # -- the hosted page -------------------------------------------------------------------

    def _page(self, method: str, session_id: str, form: dict) -> None:
        store = self.server.store
        found = store.page(session_id)
        if found is None:
            self._html(404, pages.not_found_page(session_id))
            return
        session, line_items = found
        action = form.get("action") if method == "POST" else None
        card = form.get("card") or DEFAULT_CARD
        if action is None:
            self._html(200, pages.checkout_page(session, line_items))
        elif action == "pay" and card not in CARDS:
            self._html(400, pages.checkout_page(session, line_items, error=UNKNOWN_CARD))
        elif action == "pay" and store.pay(session_id, card=card):
            target = session["success_url"] or f"/pay/{session_id}"
            self._redirect(target.replace("{CHECKOUT_SESSION_ID}", session_id))
        elif session["status"] != "open" or action == "pay":  # closed meanwhile
            self._html(409, pages.checkout_page(store.get_session(session_id), line_items))
        elif action == "decline" and store.decline(session_id):  # the session stays open
            self._html(402, pages.checkout_page(session, line_items, error=DECLINED_MESSAGE))
        elif action == "cancel" and session["cancel_url"]:
            self._redirect(session["cancel_url"])
        else:
            self._html(400, pages.checkout_page(session, line_items))

    # -- responses -------------------------------------------------------------------------

    def _json(self, status: int, body, headers: dict | None = None) -> None:
        data = json.dumps(body, indent=2).encode()
        self._send(status, data, "application/json", headers or {})

    def _html(self, status: int, html: str) -> None:
        self._send(status, html.encode(), "text/html; charset=utf-8", {})

    def _redirect(self, location: str) -> None:
        self._send(HTTPStatus.SEE_OTHER, b"", "text/plain", {"Location": location})

    def _send(self, status: int, data: bytes, content_type: str, headers: dict) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers.items():
            self.send_header(name, value)
        try:
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (a timeout)
            logger.info("%s left before its answer.", self.address_string())


def _no_params(params: dict) -> None:
    for key in params:
        raise StripeError(f"Received unknown parameter: {key}", param=key)
