"""Waiting, in tests, for what another thread or process does."""

import time


def until(condition, *, seconds: float = 5.0, what: str = "the condition", every: float = 0.01):
    """Call condition every `every` seconds until it returns something true, and return that;
    fail once `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        if time.monotonic() >= deadline:
            raise AssertionError(f"Timed out after {seconds:g} s waiting for {what}.")
        time.sleep(every)
    return result
