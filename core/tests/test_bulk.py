"""Writing many rows' values in one statement (core.bulk.values_update)."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.bulk import values_update

pytestmark = pytest.mark.django_db


def users(count: int) -> list[User]:
    User.objects.bulk_create(
        User(username=f"u{n}", first_name="Old", last_login=datetime(2026, 1, 1, tzinfo=UTC))
        for n in range(count)
    )
    return list(User.objects.order_by("pk"))


def test_each_row_gets_its_own_values_nulls_included():
    first, second, untouched = users(3)
    first.first_name, first.is_active, first.last_login = "Anne", False, None
    second.first_name, second.last_login = "Béa", datetime(2026, 5, 6, 7, 8, tzinfo=UTC)

    assert values_update(User, [first, second], ["first_name", "is_active", "last_login"]) == 2

    rows = {u.pk: u for u in User.objects.all()}
    assert (rows[first.pk].first_name, rows[first.pk].is_active) == ("Anne", False)
    # A column of the list that is NULL in its first row still takes the others' type.
    assert rows[first.pk].last_login is None
    assert rows[second.pk].last_login == datetime(2026, 5, 6, 7, 8, tzinfo=UTC)
    assert (rows[second.pk].first_name, rows[second.pk].is_active) == ("Béa", True)
    assert rows[untouched.pk].first_name == "Old"  # the fields of rows not listed stay


def test_a_long_list_is_written_in_as_few_statements_as_the_parameters_allow():
    everyone = users(600)
    for user in everyone:
        user.first_name = f"N{user.pk}"
    with CaptureQueriesContext(connection) as queries:
        assert values_update(User, everyone, ["first_name", "is_active", "last_login"]) == 600
    statements = [q for q in queries if q["sql"].startswith("UPDATE")]
    # 4 values a row: SQLite takes 999 parameters a statement, 249 rows; PostgreSQL all at once.
    assert len(statements) == (3 if connection.vendor == "sqlite" else 1)
    names = dict(User.objects.values_list("pk", "first_name"))
    assert all(names[user.pk] == f"N{user.pk}" for user in everyone)


def test_no_rows_write_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert values_update(User, [], ["first_name"]) == 0
