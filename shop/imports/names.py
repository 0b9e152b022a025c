"""Categories, countries and regions of an import by name: those of the catalog, and new ones."""

from collections import defaultdict

from shop.imports.bulk import free_slugs, in_chunks
from shop.models import Region


class Names:
    """Rows of Category or Country by lower-cased name; new names wait to be created."""

    def __init__(self, model, new_names: list[str]):
        self.model = model
        self.ids = {}
        self.names = {}  # key -> name as spelled in the catalog, or first in the file
        for pk, name in model.objects.values_list("pk", "name"):
            self.ids[name.lower()] = pk
            self.names[name.lower()] = name
        self.pending: dict[str, str] = {}  # key -> name as first spelled in the file
        self.new_names = new_names

    def key(self, name: str) -> str:
        key = name.lower()
        if key not in self.ids:
            self.ids[key] = None
            self.names[key] = name
            self.pending[key] = name
            self.new_names.append(name)
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

    def __init__(self, countries: Names, new_names: list[str]):
        self.countries = countries
        country_keys = {pk: key for key, pk in countries.ids.items()}
        self.ids = {}
        self.homes = defaultdict(set)  # region key -> country names that have it
        for pk, country_id, name, country in Region.objects.values_list(
            "pk", "country_id", "name", "country__name"
        ):
            self.ids[country_keys[country_id], name.lower()] = pk
            self.homes[name.lower()].add(country)
        self.pending: dict[tuple, str] = {}
        self.new_names = new_names

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
        self.new_names.append(f"{name} ({country})")
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
