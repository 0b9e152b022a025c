"""The wines on sale counted by category, country and region, kept by triggers on shop_wine.

The catalog's filters count from these few rows rather than from every wine. Triggers keep them
for every write path (saves, bulk imports, stock moved by orders, raw updates). A group's row is
written only when a wine enters, leaves or changes group, or runs out or comes back in stock:
most sales leave it alone, so checkouts don't queue on it. PostgreSQL adds each statement's
changes at once, per group and in group order; SQLite row by row.

SQLite drops a table's triggers when a migration rebuilds it: a migration that rebuilds shop_wine
must drop and make these again around it, as 0005_wine_photos does for 0002's.
"""

from django.db import migrations, models

GROUP = "category_id, country_id, COALESCE(region_id, 0)"
UPSERT = (
    "ON CONFLICT (category, country, region) DO UPDATE SET "
    "wines = shop_winegroup.wines + excluded.wines, "
    "in_stock = shop_winegroup.in_stock + excluded.in_stock"
)
INSERT = "INSERT INTO shop_winegroup (category, country, region, wines, in_stock)"


def _sqlite_upsert(row: str, sign: str) -> str:
    return (
        f"{INSERT} SELECT {row}.category_id, {row}.country_id, COALESCE({row}.region_id, 0), "
        f"{sign}1, {sign}({row}.stock > 0) WHERE {row}.available {UPSERT};"
    )


SQLITE = [
    f"CREATE TRIGGER wine_groups_insert AFTER INSERT ON shop_wine BEGIN "
    f"{_sqlite_upsert('NEW', '')} END",
    f"CREATE TRIGGER wine_groups_delete AFTER DELETE ON shop_wine BEGIN "
    f"{_sqlite_upsert('OLD', '-')} END",
    "CREATE TRIGGER wine_groups_update "
    "AFTER UPDATE OF available, category_id, country_id, region_id, stock ON shop_wine "
    "WHEN OLD.available IS NOT NEW.available OR OLD.category_id IS NOT NEW.category_id "
    "OR OLD.country_id IS NOT NEW.country_id OR OLD.region_id IS NOT NEW.region_id "
    "OR (OLD.stock > 0) IS NOT (NEW.stock > 0) "
    f"BEGIN {_sqlite_upsert('OLD', '-')} {_sqlite_upsert('NEW', '')} END",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS wine_groups_insert",
    "DROP TRIGGER IF EXISTS wine_groups_delete",
    "DROP TRIGGER IF EXISTS wine_groups_update",
]


def _changes(table: str, sign: str) -> str:
    return (
        "SELECT category_id, country_id, COALESCE(region_id, 0) AS region, "  # noqa: S608 - fixed names
        f"{sign}1 AS wines, {sign}(stock > 0)::int AS in_stock FROM {table} WHERE available"
    )


def _postgres_apply(*parts: str) -> str:
    changes = " UNION ALL ".join(parts)
    return (
        f"{INSERT} SELECT category_id, country_id, region, SUM(wines), SUM(in_stock) "  # noqa: S608
        f"FROM ({changes}) AS changes GROUP BY category_id, country_id, region "
        "HAVING SUM(wines) <> 0 OR SUM(in_stock) <> 0 "
        f"ORDER BY category_id, country_id, region {UPSERT};"
    )


POSTGRES = [
    f"""
    CREATE FUNCTION shop_wine_groups() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {_postgres_apply(_changes("new_rows", ""))}
        ELSIF TG_OP = 'DELETE' THEN
            {_postgres_apply(_changes("old_rows", "-"))}
        ELSE
            {_postgres_apply(_changes("old_rows", "-"), _changes("new_rows", ""))}
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql;
    """,
    "CREATE TRIGGER wine_groups_insert AFTER INSERT ON shop_wine REFERENCING NEW TABLE AS "
    "new_rows FOR EACH STATEMENT EXECUTE FUNCTION shop_wine_groups()",
    "CREATE TRIGGER wine_groups_delete AFTER DELETE ON shop_wine REFERENCING OLD TABLE AS "
    "old_rows FOR EACH STATEMENT EXECUTE FUNCTION shop_wine_groups()",
    "CREATE TRIGGER wine_groups_update AFTER UPDATE ON shop_wine REFERENCING OLD TABLE AS "
    "old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION shop_wine_groups()",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS wine_groups_insert ON shop_wine",
    "DROP TRIGGER IF EXISTS wine_groups_delete ON shop_wine",
    "DROP TRIGGER IF EXISTS wine_groups_update ON shop_wine",
    "DROP FUNCTION IF EXISTS shop_wine_groups()",
]
BACKFILL = (
    f"{INSERT} SELECT category_id, country_id, COALESCE(region_id, 0), COUNT(*), "  # noqa: S608
    "SUM(CASE WHEN stock > 0 THEN 1 ELSE 0 END) FROM shop_wine WHERE available "
    "GROUP BY category_id, country_id, COALESCE(region_id, 0)"
)


def _run(statements: dict):
    def run(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0010_wine_search_text"),
    ]

    operations = [
        migrations.CreateModel(
            name="WineGroup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("category", models.IntegerField(verbose_name="category id")),
                ("country", models.IntegerField(verbose_name="country id")),
                ("region", models.IntegerField(verbose_name="region id, 0 for none")),
                ("wines", models.IntegerField(default=0, verbose_name="wines on sale")),
                ("in_stock", models.IntegerField(default=0, verbose_name="wines on sale in stock")),
            ],
            options={
                "verbose_name": "group of wines",
                "verbose_name_plural": "groups of wines",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("category", "country", "region"), name="wine_group_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(
            _run({"sqlite": [*SQLITE, BACKFILL], "postgresql": [*POSTGRES, BACKFILL]}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        ),
    ]
