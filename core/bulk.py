"""Writing many rows' own values in one statement, for the bulk writes of imports.

Django's bulk_update writes a CASE WHEN per field with one branch per row: Python builds and
compiles every branch, and the database tries them in turn for each row, so its cost grows with
the square of the batch. values_update joins the table to a VALUES list instead: one parameter
per value, one lookup per row.
"""

import sqlite3

from django.db import connection
from django.db.models import Model

# UPDATE ... FROM arrived in SQLite 3.33; older builds are left to bulk_update.
_SQLITE_UPDATE_FROM = sqlite3.sqlite_version_info >= (3, 33)


def values_update(model: type[Model], rows: list[Model], fields: list[str]) -> int:
    """Write each row's values of `fields` to its row of the table, by primary key, in as few
    UPDATE statements as the database's limit on parameters allows; return the rows written.

    The rows are unsaved instances carrying their primary key and the new values, as for
    bulk_update. Triggers on the table fire as for any UPDATE.
    """
    if not rows:
        return 0
    if connection.vendor not in ("postgresql", "sqlite") or (
        connection.vendor == "sqlite" and not _SQLITE_UPDATE_FROM
    ):
        return model._default_manager.bulk_update(rows, fields)
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    quote = connection.ops.quote_name
    # PostgreSQL types a VALUES list by its first row; a column of NULLs would be text.
    typed = connection.vendor == "postgresql"
    placeholders = ", ".join(
        f"CAST(%s AS {field.db_type(connection)})" if typed else "%s" for field in columns
    )
    table = quote(meta.db_table)
    assignments = ", ".join(
        f"{quote(field.column)} = v.column{n}" for n, field in enumerate(columns[1:], start=2)
    )
    per_statement = max(connection.ops.bulk_batch_size(columns, rows), 1)
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            values = ", ".join([f"({placeholders})"] * len(chunk))
            params = [
                field.get_db_prep_save(getattr(row, field.attname), connection)
                for row in chunk
                for field in columns
            ]
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v "  # noqa: S608
                f"WHERE {table}.{quote(meta.pk.column)} = v.column1",
                params,
            )
            written += cursor.rowcount
    return written
