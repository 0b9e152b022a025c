"""Send events to the shop's webhook the way `stripe listen` forwards them: signed JSON posts."""

import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request

import stripe

from payments.sandbox.wire import random_id

logger = logging.getLogger(__name__)

ATTEMPTS = 3  # a webhook that is restarting gets a couple more tries
TIMEOUT = 10


def event_for(
    event_type: str, obj: dict, *, api_version: str, request: dict, previous: dict | None = None
) -> dict:
    """Return a Stripe event carrying the object as it is now, and for a change the values its
    changed fields had before (`previous_attributes`)."""
    data = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    return {
        "id": random_id("evt_"),
        "object": "event",
        "api_version": api_version,
        "created": int(time.time()),
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": request,
        "type": event_type,
    }


class WebhookSender:
    """Deliver events one at a time from a thread of its own, so the page that caused them
    answers at once, and in the order they happened."""

    def __init__(self, url: str | None, secret: str):
        if url and not url.startswith(("http://", "https://")):
            raise ValueError(f"The webhook URL must be http(s): {url!r}")
        if url and not secret:
            raise ValueError("Signing webhooks needs a secret (STRIPE_WEBHOOK_SECRET).")
        self.url = url
        self._secret = secret
        self._queue: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self.events: list[dict] = []  # every event made, with how its delivery went
        self._thread = threading.Thread(target=self._work, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def send(
        self,
        event_type: str,
        obj: dict,
        api_version: str,
        request: dict,
        previous: dict | None = None,
    ) -> None:
        event = event_for(
            event_type, obj, api_version=api_version, request=request, previous=previous
        )
        with self._lock:
            self.events.append({"event": event, "delivery": "pending"})
        self._queue.put(event)

    def log(self) -> list[dict]:
        with self._lock:
            return json.loads(json.dumps(self.events))

    def wait(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event was delivered or given up; return False on timeout."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True

    def stop(self) -> None:
        self._queue.put(None)

    def _work(self) -> None:
        while (event := self._queue.get()) is not None:
            try:
                outcome = self._deliver(event) if self.url else "not sent: no webhook URL"
            except Exception:  # a bug here must not stop later deliveries
                logger.exception("Delivering %s failed.", event["id"])
                outcome = "error"
            with self._lock:
                for entry in self.events:
                    if entry["event"]["id"] == event["id"]:
                        entry["delivery"] = outcome
            self._queue.task_done()
        self._queue.task_done()

    def _deliver(self, event: dict) -> str:
        body = json.dumps(event, indent=2)  # Stripe sends indented JSON
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": stripe.WebhookSignature.generate_signature_header(
                body, self._secret
            ),
        }
        for attempt in range(1, ATTEMPTS + 1):
            request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
                self.url, data=body.encode(), headers=headers, method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError as error:  # refused, reset, timed out: the shop may be restarting
                logger.warning(
                    "--> %s [%s] attempt %d: %s", event["type"], event["id"], attempt, error
                )
                if attempt < ATTEMPTS:
                    time.sleep(0.5 * 2**attempt)
                continue
            level = logging.INFO if 200 <= status < 300 else logging.WARNING
            logger.log(level, "--> %s [%s] %s: %d", event["type"], event["id"], self.url, status)
            return str(status)
        return "unreachable"
