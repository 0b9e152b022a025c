"""What an import found (a preview) or did (applied): counts, new names, row errors."""

from dataclasses import asdict, dataclass, field

MAX_ERRORS = 50  # row errors kept in a report; the count covers them all


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def __str__(self):
        return f"Row {self.row}, {self.column}: {self.message}"


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

    @property
    def ok(self) -> bool:
        return not self.file_error and not self.invalid

    @property
    def changes(self) -> int:
        return self.new + self.updated

    def add_error(self, row: int, column: str, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(row, column, message))

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ImportReport":
        data = dict(data)
        data["errors"] = [RowError(**error) for error in data.get("errors", [])]
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
        if self.extra_columns:
            lines.append(f"Columns ignored: {', '.join(self.extra_columns)}.")
        return lines
