"""An offline stand-in for the parts of Stripe's API the shop uses (development and tests only).

The official SDK talks to it unchanged: point its API base at the sandbox's address.

    server.py    the HTTP server: the API's routes, the hosted payment page, the test controls
    state.py     its memory under one lock: sessions, coupons, idempotent replies, the ledger
    ledger.py    payments and their refunds and disputes, with Stripe's refusals and events
    objects.py   Stripe's objects as the sandbox makes them, and its test cards
    params.py    the parameters Stripe accepts, checked as Stripe checks them
    pages.py     the hosted payment page
    webhooks.py  signed events posted to the shop's webhook, in order
    wire.py      form bodies, ids, errors and amounts in Stripe's wire format
"""

from payments.sandbox.server import SandboxServer, start_in_thread

__all__ = ["SandboxServer", "start_in_thread"]
