"""Handing tasks to the broker from a state change that is already saved."""

import logging

logger = logging.getLogger(__name__)


def publish(task, *args, meanwhile: str = "") -> bool:
    """Queue the task with these arguments; return False when the broker is away.

    The caller's state is saved already and something else catches up with what was not
    queued (a sweep, a retry, the customer asking again): `meanwhile` says what, for the log. A
    broker outage is logged rather than raised, so the request that saved the state succeeds.
    """
    try:
        task.apply_async(args=list(args), retry=False)
    except Exception:  # any broker or network failure
        logger.warning(
            "Broker unavailable: %s%s was not queued%s.",
            task.name,
            args,
            f"; {meanwhile}" if meanwhile else "",
        )
        return False
    return True
