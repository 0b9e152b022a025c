"""What an import found (a preview) or did (applied): counts, new names, row errors, and the
wines it adds or changes, field by field."""

from dataclasses import asdict, dataclass, field

MAX_ERRORS = 50  # row errors (and blank cells, and name hints) kept in a report
MAX_WINE_CHANGES = 5000  # new and updated wines listed; the counts cover them all


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def __str__(self):
        return f"Row {self.row}, {self.column}: {self.message}"


@dataclass
class FieldChange:
    """A field of a wine whose value the file changes, as text ("" for none)."""

    field: str
    old: str
    new: str
    erases: bool = False  # a blank cell that erases the value


@dataclass
class WineChange:
    """A new wine, or an existing one and the fields that the file changes."""

    row: int
    sku: str
    name: str
    new: bool
    fields: list[FieldChange]

    @classmethod
    def from_dict(cls, data: dict) -> "WineChange":
        return cls(**{**data, "fields": [FieldChange(**f) for f in data["fields"]]})


@dataclass
class BlankCell:
    """A blank cell of the file over a wine's value: kept, or erased when blanks erase."""

    row: int
    sku: str
    column: str
    value: str


@dataclass
class NameHint:
    """A new category, country or region that looks like a typo of one of the catalog."""

    kind: str  # "category", "country" or "region"
    name: str
    existing: str


@dataclass
class ImportReport:
    """What an import found (a preview) or did (applied)."""

    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    new_categories: list[str] = field(default_factory=list)
    new_countries: list[str] = field(default_factory=list)
    new_regions: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_error: str = ""
    applied: bool = False
    erase_blanks: bool = False  # blank cells erase values (else they leave them as they are)
    blank_count: int = 0  # blank cells over a value; blank_cells lists the first ones
    blank_cells: list[BlankCell] = field(default_factory=list)
    name_hints: list[NameHint] = field(default_factory=list)
    # Kept apart from the summary (see as_dict): a large file lists thousands.
    wine_changes: list[WineChange] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return not self.file_error and not self.invalid

    @property
    def changes(self) -> int:
        return self.new + self.updated

    def add_error(self, row: int, column: str, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(row, column, message))

    def add_blank(self, row: int, sku: str, column: str, value: str) -> None:
        self.blank_count += 1
        if len(self.blank_cells) < MAX_ERRORS:
            self.blank_cells.append(BlankCell(row, sku, column, value))

    def add_wine_change(self, change: WineChange) -> None:
        if len(self.wine_changes) < MAX_WINE_CHANGES:
            self.wine_changes.append(change)

    def as_dict(self) -> dict:
        """Return the report without its wine changes (wine_changes_as_list has them)."""
        data = asdict(self)
        del data["wine_changes"]
        return data

    def wine_changes_as_list(self) -> list[dict]:
        return [asdict(change) for change in self.wine_changes]

    @classmethod
    def from_dict(cls, data: dict) -> "ImportReport":
        data = dict(data)
        data["errors"] = [RowError(**error) for error in data.get("errors", [])]
        data["blank_cells"] = [BlankCell(**blank) for blank in data.get("blank_cells", [])]
        data["name_hints"] = [NameHint(**hint) for hint in data.get("name_hints", [])]
        data.pop("wine_changes", None)
        return cls(**data)

    def summary_lines(self) -> list[str]:
        if self.file_error:
            return [self.file_error]
        verb = "imported" if self.applied else "checked"
        lines = [
            f"{self.rows} rows {verb}: {self.new} new, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.invalid} invalid."
        ]
        for label, names in (
            ("New categories", self.new_categories),
            ("New countries", self.new_countries),
            ("New regions", self.new_regions),
        ):
            if names:
                lines.append(f"{label}: {', '.join(names)}.")
        for hint in self.name_hints:
            lines.append(f"New {hint.kind} “{hint.name}”: did you mean “{hint.existing}”?")
        if self.blank_count:
            lines.append(
                f"{self.blank_count} blank cell(s) over a value: "
                + ("they erase it." if self.erase_blanks else "the values are kept.")
            )
        if self.extra_columns:
            lines.append(f"Columns ignored: {', '.join(self.extra_columns)}.")
        return lines
