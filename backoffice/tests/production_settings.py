"""The production settings, with the local Stripe stand-in allowed: the production stack test pays
on the sandbox, as every test does at the boundary the suite does not own, instead of at Stripe.
"""

from backoffice.settings import *  # noqa: F403

STRIPE_SANDBOX_ALLOWED = True
