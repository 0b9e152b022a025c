"""Queries for rows in bulk, in chunks small enough for SQLite's limit on query parameters."""

from collections import defaultdict
from collections.abc import Iterator

from django.utils import timezone
from django.utils.text import slugify

from core.bulk import values_update
from shop.models import SEARCHED_FIELDS, Wine, wine_search_text_refresh

BATCH_ROWS = 2000
# Values per IN (...): standard SQLite builds accept at most 999 parameters per query.
IN_CHUNK = 500


def in_chunks(queryset, lookup: str, values: list, *fields) -> Iterator[tuple]:
    """Yield values_list(*fields) of the rows whose lookup is in values, IN_CHUNK at a time."""
    for start in range(0, len(values), IN_CHUNK):
        chunk = values[start : start + IN_CHUNK]
        yield from queryset.filter(**{f"{lookup}__in": chunk}).values_list(*fields)


def free_slugs(model, texts: list[str], *, max_length: int) -> list[str]:
    """Return one slug per text that no row of model and no other text of the list uses.

    Taken slugs get -2, -3, ...; each round asks the database about all its candidates at once.
    """
    bases = [slugify(text)[:max_length] or "item" for text in texts]
    slugs: list[str | None] = [None] * len(bases)
    taken: set[str] = set()
    pending = list(range(len(bases)))
    n = 1
    while pending:
        candidates = {
            i: bases[i] if n == 1 else f"{bases[i][: max_length - len(str(n)) - 1]}-{n}"
            for i in pending
        }
        wanted = sorted(set(candidates.values()) - taken)
        taken.update(slug for (slug,) in in_chunks(model.objects, "slug", wanted, "slug"))
        still = []
        for i in pending:
            if candidates[i] in taken:
                still.append(i)
            else:
                taken.add(candidates[i])
                slugs[i] = candidates[i]
        pending = still
        n += 1
    return slugs


def update(changes: dict[int, dict], fields: list[str]) -> None:
    """Write to each wine (by id) the fields whose value differs from the new one."""
    # Lock the rows about to change, in id order as order placement locks them, and compare
    # again: an order may have moved their stock since they were read.
    now = timezone.now()
    updates = defaultdict(list)
    renamed = []  # the wines whose searchable text changes with them
    locked = Wine.objects.select_for_update().order_by("pk")
    for pk, *old in in_chunks(locked, "pk", sorted(changes), "pk", *fields):
        new = changes[pk]
        changed = tuple(
            f for f, value in zip(fields, old, strict=True) if f in new and new[f] != value
        )
        if changed:
            updates[changed].append(Wine(pk=pk, updated=now, **{f: new[f] for f in changed}))
            if SEARCHED_FIELDS.intersection(changed):
                renamed.append(pk)
    # Each row written once, with its time of change, from a list of values rather than a CASE
    # per row; only a new name or place rewrites the searchable text, in one UPDATE per chunk.
    for changed, wines in updates.items():
        values_update(Wine, wines, [*changed, "updated"])
    for start in range(0, len(renamed), IN_CHUNK):
        wine_search_text_refresh(Wine.objects.filter(pk__in=renamed[start : start + IN_CHUNK]))
