"""The SKUs a file has shown so far, each with the row it was first on, kept off the heap."""

import sqlite3


class SeenSkus:
    """SKU -> the row it was first on, in a private temporary SQLite database.

    A file of a million rows holds a million SKUs: held in a dict they would outgrow the
    worker's memory; SQLite keeps a small page cache and moves the rest to a temporary file.
    """

    def __init__(self):
        # An empty name is a private database on disk, deleted when the connection closes.
        self.db = sqlite3.connect("")
        self.db.execute("CREATE TABLE seen (sku TEXT PRIMARY KEY, row INTEGER) WITHOUT ROWID")

    def first_row(self, sku: str, row: int) -> int | None:
        """Record sku as seen on row; return the row it was first on when it was seen before."""
        cursor = self.db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (sku, row))
        if cursor.rowcount:
            return None
        return self.db.execute("SELECT row FROM seen WHERE sku = ?", (sku,)).fetchone()[0]

    def close(self) -> None:
        self.db.close()
