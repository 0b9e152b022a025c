import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from backoffice.models import BaselineRow
from backoffice.tasks import baseline_row_touch

pytestmark = pytest.mark.django_db

PATHS = [("get", "/bench/session/read/"), ("post", "/bench/session/save/")]
PATHS += [("post", "/bench/row/insert/")]


@pytest.fixture
def shopper(client):
    """A visitor whose session row exists, as the benchmark's are."""
    session = client.session
    session["cart"] = {"1": 2}
    session.save()
    return client


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_baselines_are_not_found_unless_the_benchmark_turns_them_on(shopper, method, path):
    sessions = list(Session.objects.values_list("session_data", flat=True))

    response = getattr(shopper, method)(path)

    assert response.status_code == 404
    assert not BaselineRow.objects.exists()
    assert list(Session.objects.values_list("session_data", flat=True)) == sessions


@pytest.fixture
def baselines(settings):
    settings.BENCH_BASELINES = True


@pytest.mark.usefixtures("baselines")
def test_session_read_reads_the_session_row_and_writes_nothing(shopper, django_assert_num_queries):
    data = Session.objects.get().session_data

    with django_assert_num_queries(1):
        response = shopper.get("/bench/session/read/")

    assert response.status_code == 200
    assert Session.objects.get().session_data == data
    assert "sessionid" not in response.cookies


@pytest.mark.usefixtures("baselines")
def test_session_read_without_a_session_creates_none(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/bench/session/read/")

    assert response.status_code == 200
    assert not Session.objects.exists()


@pytest.mark.usefixtures("baselines")
def test_session_read_through_the_cache_asks_the_database_nothing(
    settings, django_assert_num_queries
):
    settings.SESSION_ENGINE = "core.sessions"
    browser = Client()
    session = browser.session
    session["cart"] = {"1": 2}
    session.save()

    with django_assert_num_queries(0):
        response = browser.get("/bench/session/read/")

    assert response.status_code == 200


@pytest.mark.usefixtures("baselines")
def test_session_save_reads_and_saves_the_session_row(shopper, django_assert_num_queries):
    # The row read; saving it in its own savepoint: savepoint, update, release.
    with django_assert_num_queries(4):
        response = shopper.post("/bench/session/save/")
    shopper.post("/bench/session/save/")

    assert response.status_code == 200
    assert shopper.session["baseline"] == 2
    assert shopper.session["cart"] == {"1": 2}


@pytest.mark.usefixtures("baselines")
def test_session_save_refuses_a_get(shopper):
    assert shopper.get("/bench/session/save/").status_code == 405


@pytest.mark.usefixtures("baselines")
def test_row_insert_inserts_one_row(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.post("/bench/row/insert/")

    assert response.status_code == 200
    assert BaselineRow.objects.count() == 1


def test_baseline_task_locks_stamps_the_row_and_writes_one_file(
    settings, tmp_path, django_assert_num_queries
):
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    row = BaselineRow.objects.create()

    # Savepoint, the row locked, its stamp, release.
    with django_assert_num_queries(4):
        baseline_row_touch.delay(row.pk)

    row.refresh_from_db()
    assert row.touched_at is not None
    assert [path.name for path in (tmp_path / "mail").iterdir()] == [f"baseline-{row.pk}.txt"]
