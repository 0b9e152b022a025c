"""An offline stand-in for the parts of Stripe's API the shop uses (development and tests only).

The official SDK talks to it unchanged: point its API base at the sandbox's address.
"""

from payments.sandbox.server import SandboxServer, start_in_thread

__all__ = ["SandboxServer", "start_in_thread"]
