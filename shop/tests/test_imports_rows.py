"""Checking every row of a wine file and writing the new and changed wines (shop.imports.rows)."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from shop.catalog_cache import catalog_version
from shop.imports import BATCH_ROWS, wine_file_apply
from shop.models import Category, Region, Wine
from shop.selectors import WineFilters, wine_list
from shop.tests.factories import CategoryFactory, CountryFactory, RegionFactory, WineFactory
from shop.tests.wine_files import (
    HEADER,
    ROW,
    apply,
    csv_file,
    examples,
    forget_the_catalog,
    messages,
    nothing_written,
    xlsx_file,
)

pytestmark = pytest.mark.django_db


def test_import_creates_wines_and_the_missing_catalog_names():
    report = apply(csv_file(ROW, "A2,Blanc,Domaine Deux,,White,Italy,,9.90,0,,no"))
    assert report.ok and report.applied
    assert (report.new, report.updated, report.unchanged, report.invalid) == (2, 0, 0, 0)
    assert report.new_categories == ["Red", "White"]
    assert report.new_countries == ["France", "Italy"]
    assert report.new_regions == ["Bordeaux (France)"]
    wine = Wine.objects.get(sku="A1")
    assert (wine.name, wine.producer, wine.vintage, wine.price) == (
        "Clos du Test",
        "Domaine Un",
        2019,
        Decimal("12.50"),
    )
    assert (wine.category.name, wine.country.name, wine.region.name) == (
        "Red",
        "France",
        "Bordeaux",
    )
    assert (wine.stock, wine.description, wine.available) == (6, "Dark fruit.", True)
    assert wine.slug == "domaine-un-clos-du-test-2019"
    other = Wine.objects.get(sku="A2")
    assert (other.vintage, other.region, other.available) == (None, None, False)
    assert Region.objects.get().slug == "france-bordeaux"


def test_preview_counts_the_same_and_writes_nothing():
    WineFactory(sku="OLD", price=Decimal("5.00"))
    before = set(Category.objects.values_list("name", flat=True))
    file = csv_file(ROW, "OLD,Changed,Dom,2019,Red,France,,5.00,1,,yes")
    preview = wine_file_apply(file=file)
    assert not preview.applied
    assert (preview.new, preview.updated, preview.invalid) == (1, 1, 0)
    assert Wine.objects.count() == 1
    assert set(Category.objects.values_list("name", flat=True)) == before
    assert Wine.objects.get(sku="OLD").name != "Changed"
    applied = apply(file)
    assert (applied.new, applied.updated) == (preview.new, preview.updated)
    assert applied.new_countries == preview.new_countries


def test_names_match_existing_rows_whatever_their_case():
    red = CategoryFactory(name="Red", slug="red")
    region = RegionFactory(name="Bordeaux", country=CountryFactory(name="France"))
    report = apply(csv_file(ROW.replace("Red,France,Bordeaux", "RED,france,BORDEAUX")))
    assert report.ok
    assert report.new_categories == report.new_countries == report.new_regions == []
    wine = Wine.objects.get()
    assert (wine.category, wine.region, wine.country) == (red, region, region.country)


def test_update_writes_only_changed_rows_and_fields():
    region = RegionFactory(name="Bordeaux", country=CountryFactory(name="France"))
    fields = {"producer": "P", "vintage": 2018, "region": region, "price": "10.00"}
    fields["category"] = CategoryFactory(name="Red")
    same = WineFactory(sku="SAME", name="Same", **fields)
    moved = WineFactory(sku="MOVED", name="Moved", **fields)
    stamp = Wine.objects.get(pk=same.pk).updated
    header = "sku,name,producer,vintage,category,country,region,price"
    report = apply(
        csv_file(
            "SAME,Same,P,2018,Red,France,Bordeaux,10.00",
            "MOVED,Moved,P,2018,Red,France,Bordeaux,11.00",
            header=header,
        )
    )
    assert (report.new, report.updated, report.unchanged) == (0, 1, 1)
    assert Wine.objects.get(pk=same.pk).updated == stamp
    moved_after = Wine.objects.get(pk=moved.pk)
    assert moved_after.price == Decimal("11.00")
    # Columns the file does not have are left as they were.
    assert (moved_after.stock, moved_after.description) == (moved.stock, moved.description)
    assert moved_after.updated > stamp


def test_a_changed_wine_is_written_once_and_its_searchable_text_only_when_renamed():
    region = RegionFactory(name="Bordeaux", country=CountryFactory(name="France"))
    fields = {"producer": "P", "vintage": 2018, "region": region, "price": "10.00"}
    fields["category"] = CategoryFactory(name="Red")
    repriced = WineFactory(sku="PRICE", name="Priced", **fields)
    WineFactory(sku="NAME", name="Old Name", **fields)
    stamp, text = Wine.objects.values_list("updated", "search_text").get(pk=repriced.pk)
    header = "sku,name,producer,vintage,category,country,region,price"
    with CaptureQueriesContext(connection) as queries:
        report = apply(
            csv_file(
                "PRICE,Priced,P,2018,Red,France,Bordeaux,11.00",
                "NAME,New Name,P,2018,Red,France,Bordeaux,10.00",
                header=header,
            )
        )
    assert report.updated == 2
    writes = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "shop_wine"')]
    # One UPDATE per set of changed fields (with the time of change), then the renamed wine's
    # searchable text: three, where every changed wine was written twice before.
    assert len(writes) == 3
    assert all('"updated" =' in sql for sql in writes[:2]) and '"search_text" =' in writes[2]
    after = {wine.sku: wine for wine in Wine.objects.all()}
    assert after["PRICE"].price == Decimal("11.00") and after["PRICE"].updated > stamp
    assert after["PRICE"].search_text == text
    assert "new name" in after["NAME"].search_text and "old" not in after["NAME"].search_text


def test_imported_wines_are_found_by_a_search_under_their_new_names():
    WineFactory(sku="A1", name="Ancien Nom", producer="P")
    apply(csv_file(ROW, "A2,Grüner Blanc,Weingut Zwei,,White,Österreich,Wachau,9.90,0,,yes"))

    def found(q: str) -> list[str]:
        return sorted(wine_list(filters=WineFilters(q=q)).values_list("sku", flat=True))

    assert found("clos domaine un bordeaux france red") == ["A1"]
    assert found("ancien") == []
    assert found("gruner zwei wachau osterreich white") == ["A2"]


def test_stock_in_a_file_replaces_the_stock():
    wine = WineFactory(stock=30)
    row = (
        f"{wine.sku},{wine.name},{wine.producer},{wine.vintage},{wine.category.name},"
        f"{wine.country.name},{wine.region.name},{wine.price},12,,yes"
    )
    report = apply(csv_file(row))
    assert report.updated == 1
    wine.refresh_from_db()
    assert wine.stock == 12


def test_new_wines_and_categories_get_unique_slugs():
    CategoryFactory(name="Rouge", slug="red")
    WineFactory(slug="domaine-un-clos-du-test-2019")
    report = apply(csv_file(ROW, ROW.replace("A1", "A1-bis")))
    assert report.ok
    assert Category.objects.get(name="Red").slug == "red-2"
    slugs = set(Wine.objects.filter(sku__startswith="A1").values_list("slug", flat=True))
    assert slugs == {"domaine-un-clos-du-test-2019-2", "domaine-un-clos-du-test-2019-3"}


def test_import_applies_after_commit_bumps_the_catalog_version(
    django_capture_on_commit_callbacks,
):
    version = catalog_version()
    with django_capture_on_commit_callbacks(execute=True):
        wine_file_apply(file=csv_file(ROW))
    assert catalog_version() == version
    with django_capture_on_commit_callbacks(execute=True):
        apply(csv_file(ROW))
    assert catalog_version() != version


def test_thousands_of_rows_take_a_bounded_number_of_queries(django_assert_max_num_queries):
    rows = [
        f"S{i:05d},Wine {i},Producer {i % 7},{2000 + i % 20},Cat {i % 3},Land {i % 4},"
        f"Area {i % 5},{i % 90}.50,{i % 40},,yes"
        for i in range(2500)
    ]
    # Three maps, the SKU and slug lookups in chunks of 500, bulk writes capped by SQLite's 999
    # parameters per statement: well under one query per row.
    with django_assert_max_num_queries(400):
        report = apply(csv_file(*rows))
    assert report.new == 2500
    with django_assert_max_num_queries(20):
        again = apply(csv_file(*rows))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2500)


def _catalog_rows(skus: range, *, prefix: str, price: str = "9.50") -> list[str]:
    # Land n has the single region Area n, so that every file names the same places.
    return [
        f"{prefix}{i:05d},Wine {prefix}{i},Producer {i % 7},{2000 + i % 20},Cat {i % 3},"
        f"Land {i % 4},Area {i % 4},{price if i % 2 else '9.50'},{i % 40},,yes"
        for i in skus
    ]


def _queries(rows: list[str]) -> int:
    with CaptureQueriesContext(connection) as queries:
        report = apply(csv_file(*rows))
    assert report.ok and report.applied
    return len(queries)


def test_each_batch_takes_the_same_number_of_queries_however_large_the_file():
    apply(csv_file(*_catalog_rows(range(4), prefix="SEED")))  # the places exist before
    firsts, seconds = [], []
    for batches, prefix in ((1, "A"), (2, "B"), (4, "C")):
        rows = _catalog_rows(range(batches * BATCH_ROWS), prefix=prefix)
        # All new, into a table that grows from file to file; then half the rows changed.
        firsts.append(_queries(rows))
        seconds.append(
            _queries(_catalog_rows(range(batches * BATCH_ROWS), prefix=prefix, price="12.00"))
        )
    assert Wine.objects.count() == 4 + 7 * BATCH_ROWS
    for one, two, four in (firsts, seconds):
        per_batch = two - one
        assert per_batch > 0
        assert four - two == 2 * per_batch


def test_xlsx_import():
    rows = [
        ["SKU", "Name", "Producer", "Vintage", "Category", "Country", "Region", "Price", "Stock"],
        ["X1", "Workbook wine", "Dom", 2015, "Red", "Spain", "Rioja", 18.5, 12],
        [None] * 9,  # a blank row, as spreadsheets leave them
        ["X2", "Other", "Dom", None, "Red", "Spain", None, 7, 0],
    ]
    report = apply(xlsx_file(rows))
    assert report.ok, report.errors
    assert report.new == 2
    wine = Wine.objects.get(sku="X1")
    assert (wine.vintage, wine.price, wine.stock) == (2015, Decimal("18.50"), 12)


# --- Rows and columns the import refuses: a clear message, nothing written ----------------------


def test_missing_required_column():
    report = apply(csv_file("A1,Name,Dom,12.00", header="sku,name,producer,price"))
    assert report.file_error.startswith("Missing required column(s): category, country, region")
    assert nothing_written()


def test_unknown_extra_columns_are_ignored_and_reported():
    report = apply(csv_file(ROW + ",x,y", header=HEADER + ",colour,Notes"))
    assert report.ok
    assert report.extra_columns == ["colour", "notes"]
    assert "Columns ignored: colour, notes." in report.summary_lines()
    assert Wine.objects.count() == 1


def test_a_column_twice_is_refused():
    report = apply(csv_file(ROW + ",13", header=HEADER + ",Price"))
    assert report.file_error == "The column “price” appears twice in the header."
    assert nothing_written()


def test_header_only():
    report = apply(csv_file())
    assert report.file_error == "The file has a header but no rows."
    assert nothing_written()


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("-1.00", "Row 3, price: -1.00 is negative."),
        ("abc", "Row 3, price: “abc” is not a number."),
        ("NaN", "Row 3, price: “NaN” is not a number."),
        ("1.234", "Row 3, price: 1.234 has more than two decimal places."),
        ("", "Row 3, price: is required."),
    ],
)
def test_bad_price(price, message):
    report = apply(csv_file(ROW, f"A2,W,P,2019,Red,France,,{price},1,,yes"))
    assert messages(report) == [message]
    assert (report.invalid, report.new) == (1, 1)
    assert nothing_written()


@pytest.mark.parametrize(
    ("stock", "message"),
    [
        ("-3", "Row 2, stock: -3 is negative."),
        ("lots", "Row 2, stock: “lots” is not a whole number of bottles."),
        ("1.5", "Row 2, stock: “1.5” is not a whole number of bottles."),
    ],
)
def test_bad_stock(stock, message):
    report = apply(csv_file(f"A2,W,P,2019,Red,France,,1.00,{stock},,yes"))
    assert messages(report) == [message]
    assert nothing_written()


def test_vintage_in_the_future_or_not_a_year():
    next_year = timezone.localdate().year + 1
    report = apply(
        csv_file(
            f"A2,W,P,{next_year},Red,France,,1.00,1,,yes",
            "A3,W,P,19,Red,France,,1.00,1,,yes",
            "A4,W,P,old,Red,France,,1.00,1,,yes",
            "A5,W,P,NV,Red,France,,1.00,1,,yes",
        )
    )
    assert messages(report) == [
        f"Row 2, vintage: {next_year} is in the future.",
        "Row 3, vintage: “19” is not a year (use four digits, or leave it blank).",
        "Row 4, vintage: “old” is not a year (use four digits, or leave it blank).",
    ]
    assert (report.invalid, report.new) == (3, 1)
    assert nothing_written()


def test_region_of_another_country():
    RegionFactory(name="Rioja", country=CountryFactory(name="Spain"))
    CountryFactory(name="France")
    regions = Region.objects.count()
    report = apply(csv_file("A2,W,P,2019,Red,France,Rioja,1.00,1,,yes"))
    assert messages(report) == ["Row 2, region: “Rioja” is a region of Spain, not of France."]
    assert not Wine.objects.exists() and Region.objects.count() == regions
    assert not Category.objects.exists()


def test_same_sku_twice_in_one_file():
    report = apply(csv_file(ROW, "B1,Other,P,2019,Red,France,,1.00,1,,yes", ROW))
    assert messages(report) == ["Row 4, sku: “A1” is also on row 2."]
    assert nothing_written()


def test_an_invalid_row_after_thousands_of_valid_ones_writes_nothing():
    rows = [f"S{i:05d},Wine,P,2019,Red,France,,1.00,1,,yes" for i in range(4500)]
    rows.append("BAD,Wine,P,2019,Red,France,,-1,1,,yes")
    report = apply(csv_file(*rows))
    assert (report.new, report.invalid) == (4500, 1)
    assert not report.applied
    assert nothing_written()


CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "-1", "12.50", "2019", "2999", "NV", "Red", "France", "yes", "=1+1"]),
)


@examples
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=12), min_size=1, max_size=8))
def test_random_rows_are_counted_and_all_or_nothing(rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER.split(","))
    writer.writerows(rows)
    report = apply(io.BytesIO(out.getvalue().encode()))
    assert report.rows == report.new + report.updated + report.unchanged + report.invalid
    if report.applied:
        assert Wine.objects.count() == report.new
    else:
        assert nothing_written()
    assert len(report.errors) <= report.invalid * 11
    forget_the_catalog()
