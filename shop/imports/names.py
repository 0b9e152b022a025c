"""Categories, countries and regions of an import by name: those of the catalog, and new ones,
with the catalog's name that a new one looks like a typo of."""

from collections import defaultdict
from collections.abc import Iterable

from core.search import fold
from shop.imports.bulk import free_slugs, in_chunks
from shop.imports.report import MAX_ERRORS, NameHint
from shop.models import Region


def edit_distance(a: str, b: str, limit: int) -> int:
    """Return the Levenshtein distance of a and b, or limit + 1 once it is past limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, start=1):
        current = [i]
        for j, other in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            )
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def look_alike(name: str, known: Iterable[str]) -> str:
    """Return the known name that name looks like a typo of, or "".

    Equal once accents and case are folded ("Chateau", "Château"), or at most two letters
    apart ("Bordaux", "Bordeaux"; one for names of up to five letters, where two would make
    "Red" look like "Rosé").
    """
    folded = fold(name)
    limit = 1 if len(folded) <= 5 else 2
    best, best_distance = "", limit + 1
    for other in sorted(known):
        distance = edit_distance(folded, fold(other), limit)
        if distance < best_distance:
            best, best_distance = other, distance
    return best


class Names:
    """Rows of Category or Country by lower-cased name; new names wait to be created."""

    def __init__(self, model, new_names: list[str], hints: list[NameHint], kind: str):
        self.model = model
        self.ids = {}
        self.names = {}  # key -> name as spelled in the catalog, or first in the file
        self.labels = {}  # pk -> name, of the catalog's rows
        for pk, name in model.objects.values_list("pk", "name"):
            self.ids[name.lower()] = pk
            self.names[name.lower()] = name
            self.labels[pk] = name
        self.pending: dict[str, str] = {}  # key -> name as first spelled in the file
        self.new_names = new_names
        self.hints = hints
        self.kind = kind

    def key(self, name: str) -> str:
        key = name.lower()
        if key not in self.ids:
            self.ids[key] = None
            self.names[key] = name
            self.pending[key] = name
            self.new_names.append(name)
            if len(self.hints) < MAX_ERRORS:
                existing = look_alike(name, self.labels.values())
                if existing:
                    self.hints.append(NameHint(self.kind, name, existing))
        return key

    def create_pending(self) -> None:
        if not self.pending:
            return
        names = list(self.pending.values())
        slugs = free_slugs(self.model, names, max_length=120)
        self.model.objects.bulk_create(
            [self.model(name=n, slug=s) for n, s in zip(names, slugs, strict=True)]
        )
        for pk, name in in_chunks(self.model.objects, "name", names, "pk", "name"):
            self.ids[name.lower()] = pk
        self.pending.clear()


class Regions:
    """Rows of Region by (country key, lower-cased name)."""

    def __init__(self, countries: Names, new_names: list[str], hints: list[NameHint]):
        self.countries = countries
        country_keys = {pk: key for key, pk in countries.ids.items()}
        self.ids = {}
        self.homes = defaultdict(set)  # region key -> country names that have it
        self.labels = {}  # pk -> name, of the catalog's regions
        self.names = {}  # key -> name as spelled in the catalog, or first in the file
        self.of_country = defaultdict(list)  # country key -> names of its regions
        for pk, country_id, name, country in Region.objects.values_list(
            "pk", "country_id", "name", "country__name"
        ):
            self.ids[country_keys[country_id], name.lower()] = pk
            self.homes[name.lower()].add(country)
            self.labels[pk] = name
            self.names[country_keys[country_id], name.lower()] = name
            self.of_country[country_keys[country_id]].append(name)
        self.pending: dict[tuple, str] = {}
        self.new_names = new_names
        self.hints = hints

    def name(self, key: tuple[str, str]) -> str:
        """Return the name of the region of key, as the catalog or the file spells it."""
        return self.names[key]

    def key(self, country_key: str, country: str, name: str) -> tuple[str, str]:
        """Return the region's key, or raise ValueError when it belongs to other countries."""
        key = (country_key, name.lower())
        if key in self.ids:
            return key
        if self.homes.get(name.lower()):
            homes = ", ".join(sorted(self.homes[name.lower()]))
            raise ValueError(f"“{name}” is a region of {homes}, not of {country}.")
        self.ids[key] = None
        self.pending[key] = name
        self.names[key] = name
        self.new_names.append(f"{name} ({country})")
        if len(self.hints) < MAX_ERRORS:
            existing = look_alike(name, self.of_country.get(country_key, ()))
            if existing:
                self.hints.append(NameHint("region", f"{name} ({country})", existing))
        return key

    def create_pending(self) -> None:
        if not self.pending:
            return
        keys = list(self.pending)
        # Region slugs are unique across countries; the country keeps them apart.
        texts = [f"{self.countries.names[k[0]]} {self.pending[k]}" for k in keys]
        slugs = free_slugs(Region, texts, max_length=120)
        Region.objects.bulk_create(
            [
                Region(country_id=self.countries.ids[k[0]], name=self.pending[k], slug=slug)
                for k, slug in zip(keys, slugs, strict=True)
            ]
        )
        country_keys = {pk: key for key, pk in self.countries.ids.items()}
        for pk, country_id, name in in_chunks(
            Region.objects, "slug", slugs, "pk", "country_id", "name"
        ):
            self.ids[country_keys[country_id], name.lower()] = pk
        self.pending.clear()
