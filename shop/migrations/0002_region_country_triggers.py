"""Database triggers: a wine's region always belongs to the wine's country.

Validation catches this in forms; the triggers are the last line of defence for every other write
path (bulk imports, raw updates, a region moved to another country).
"""

from django.db import migrations

MESSAGE = "a wine's region must belong to the wine's country"

SQLITE = [
    f"""
    CREATE TRIGGER wine_region_country_{event.lower()} BEFORE {event} ON shop_wine
    FOR EACH ROW WHEN NEW.region_id IS NOT NULL AND NEW.country_id IS NOT
        (SELECT country_id FROM shop_region WHERE id = NEW.region_id)
    BEGIN SELECT RAISE(ABORT, "{MESSAGE}"); END;
    """
    for event in ("INSERT", "UPDATE")
] + [
    f"""
    CREATE TRIGGER region_country_update BEFORE UPDATE OF country_id ON shop_region
    FOR EACH ROW WHEN EXISTS
        (SELECT 1 FROM shop_wine WHERE region_id = NEW.id AND country_id != NEW.country_id)
    BEGIN SELECT RAISE(ABORT, "{MESSAGE}"); END;
    """
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS wine_region_country_insert",
    "DROP TRIGGER IF EXISTS wine_region_country_update",
    "DROP TRIGGER IF EXISTS region_country_update",
]

POSTGRES = [
    f"""
    CREATE FUNCTION shop_wine_region_country() RETURNS trigger AS $$
    BEGIN
        IF NEW.region_id IS NOT NULL AND NEW.country_id IS DISTINCT FROM
            (SELECT country_id FROM shop_region WHERE id = NEW.region_id) THEN
            RAISE EXCEPTION '{MESSAGE.replace("'", "''")}' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER wine_region_country BEFORE INSERT OR UPDATE OF region_id, country_id
    ON shop_wine FOR EACH ROW EXECUTE FUNCTION shop_wine_region_country();
    """,
    f"""
    CREATE FUNCTION shop_region_country() RETURNS trigger AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM shop_wine
                   WHERE region_id = NEW.id AND country_id <> NEW.country_id) THEN
            RAISE EXCEPTION '{MESSAGE.replace("'", "''")}' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER region_country BEFORE UPDATE OF country_id
    ON shop_region FOR EACH ROW EXECUTE FUNCTION shop_region_country();
    """,
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS wine_region_country ON shop_wine",
    "DROP TRIGGER IF EXISTS region_country ON shop_region",
    "DROP FUNCTION IF EXISTS shop_wine_region_country()",
    "DROP FUNCTION IF EXISTS shop_region_country()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        )
    ]
