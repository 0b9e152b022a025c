"""Text matching that ignores accents and case, the same on PostgreSQL and SQLite.

fold() is the one rule ("Château Lefèvre" → "chateau lefevre"). Queries apply it to the text
they look in through the SQL function ws_fold: SQLite runs fold itself (registered on each new
connection), PostgreSQL runs a function that core's migration builds from the same character
table. Both databases therefore find the same rows, and a test holds them to it.
"""

import unicodedata
from functools import reduce
from operator import or_

from django.db.models import Func, Q, QuerySet, TextField

SQL_FUNCTION = "ws_fold"
# Decomposed accents ("e" + U+0301) are dropped; letters that are not a base letter plus marks
# and ligatures are spelled out.
COMBINING_MARKS = "".join(chr(c) for c in range(0x0300, 0x0370))
SPELLED_OUT = {
    "ß": "ss",
    "ẞ": "ss",
    "æ": "ae",
    "Æ": "ae",
    "œ": "oe",
    "Œ": "oe",
}
SINGLE = {"ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ł": "l", "Ł": "l", "ħ": "h", "Ħ": "h", "ı": "i"}


def _letter_table() -> dict[str, str]:
    """Return each Latin letter with accents, and each capital, mapped to its plain small letter."""
    table = {chr(c): chr(c).lower() for c in range(ord("A"), ord("Z") + 1)}
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = unicodedata.normalize("NFKD", char)[:1]
        if base.isascii() and base.isalpha() and base != char:
            table[char] = base.lower()
    for char, plain in SINGLE.items():
        table[char] = plain
    return table


LETTERS = _letter_table()
_TRANSLATION = str.maketrans(
    {**LETTERS, **SPELLED_OUT, **dict.fromkeys(COMBINING_MARKS, None)}  # type: ignore[arg-type]
)


def fold(text: str | None) -> str | None:
    """Return text without accents, in small letters: how the shop compares what people type."""
    if text is None:
        return None
    return text.translate(_TRANSLATION)


def fold_function_sql() -> str:
    """Return the PostgreSQL definition of ws_fold: fold, as translate() and replace()."""

    def literal(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    source = "".join(LETTERS) + COMBINING_MARKS  # beyond the target's length: deleted
    body = f"translate($1, {literal(source)}, {literal(''.join(LETTERS.values()))})"
    for char, spelled in SPELLED_OUT.items():
        body = f"replace({body}, {literal(char)}, {literal(spelled)})"
    return (
        f"CREATE OR REPLACE FUNCTION {SQL_FUNCTION}(text) RETURNS text "
        f"LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT {body} $$"
    )


class Fold(Func):
    """The text of a column or expression, folded in the database."""

    function = SQL_FUNCTION
    output_field = TextField()


def search_words(query: str) -> list[str]:
    """Return the folded words of what someone typed in a search box."""
    return fold(query).split()


def fold_search(queryset: QuerySet, fields: list[str], query: str) -> QuerySet:
    """Return the rows where every word of query is in one of fields, accents and case aside."""
    words = search_words(query)
    if not words:
        return queryset
    aliases = {f"_fold_{i}": Fold(field) for i, field in enumerate(fields)}
    queryset = queryset.alias(**aliases)
    for word in words:
        queryset = queryset.filter(reduce(or_, (Q(**{f"{a}__contains": word}) for a in aliases)))
    return queryset


def register_sqlite_fold(sender, connection, **kwargs) -> None:
    """Give a new SQLite connection the ws_fold function (PostgreSQL has it from a migration)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQL_FUNCTION, 1, fold, deterministic=True)
