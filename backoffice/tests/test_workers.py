import pytest

from backoffice.celery import app as celery_app
from backoffice.tests.workers import refuse_outside_broker_group, use_real_broker

NODE = "orders/tests/test_worker.py::test_order_email_is_sent"


@pytest.mark.parametrize("stage", ["setup", "call"])
def test_a_test_of_the_broker_group_may_use_the_broker_at_any_stage(monkeypatch, stage):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw2")
    monkeypatch.setenv("PYTEST_CURRENT_TEST", f"{NODE}@broker ({stage})")
    refuse_outside_broker_group()


def test_the_suite_in_one_process_may_use_the_broker_anywhere(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.setenv("PYTEST_CURRENT_TEST", f"{NODE} (call)")
    refuse_outside_broker_group()


def test_a_test_outside_the_broker_group_is_stopped_before_it_publishes(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    monkeypatch.setenv("PYTEST_CURRENT_TEST", f"{NODE} (call)")
    with pytest.raises(RuntimeError, match="mark it `worker`"):
        use_real_broker()
    assert celery_app.conf.task_always_eager  # still runs tasks in-process
