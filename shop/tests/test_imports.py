import io
import random
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from shop.catalog_cache import catalog_version
from shop.imports import IN_CHUNK, free_slugs, wine_import
from shop.models import Category, Country, Region, Wine
from shop.tests import workbooks
from shop.tests.factories import CategoryFactory, CountryFactory, RegionFactory, WineFactory

pytestmark = pytest.mark.django_db

HEADER = "sku,name,producer,vintage,category,country,region,price,stock,description,available"
ROW = "A1,Clos du Test,Domaine Un,2019,Red,France,Bordeaux,12.50,6,Dark fruit.,yes"

# The example count comes from the profile (conftest.py): the suite's, or the drills'.
examples = hsettings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def csv_file(*rows: str, header: str = HEADER, bom: bool = False) -> io.BytesIO:
    text = "\r\n".join([header, *rows]) + "\r\n"
    return io.BytesIO((("\ufeff" if bom else "") + text).encode())


def xlsx_file(rows: list[list]) -> io.BytesIO:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    return out


def apply(file, **kwargs):
    return wine_import(file=file, dry_run=False, **kwargs)


def nothing_written():
    return not (
        Wine.objects.exists()
        or Category.objects.exists()
        or Country.objects.exists()
        or Region.objects.exists()
    )


def messages(report) -> list[str]:
    return [str(error) for error in report.errors]


# --- Creating and updating -------------------------------------------------------------------


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
    preview = wine_import(file=file)
    assert not preview.applied
    assert (preview.new, preview.updated, preview.invalid) == (1, 1, 0)
    assert Wine.objects.count() == 1
    assert set(Category.objects.values_list("name", flat=True)) == before
    assert Wine.objects.get(sku="OLD").name != "Changed"
    applied = apply(file)
    assert (applied.new, applied.updated) == (preview.new, preview.updated)
    assert applied.new_countries == preview.new_countries


def test_headers_ignore_case_and_a_bom_and_semicolons_work():
    header = "SKU;Name;PRODUCER;Vintage;Category;Country;Region;Price;Stock;Description;Available"
    report = apply(csv_file(ROW.replace(",", ";"), header=header, bom=True))
    assert report.ok, report.errors
    assert Wine.objects.get(sku="A1").price == Decimal("12.50")


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


def test_free_slugs_asks_in_chunks_sqlite_accepts():
    names = [f"Name {i}" for i in range(IN_CHUNK * 2 + 5)]
    slugs = free_slugs(Category, names, max_length=120)
    assert len(set(slugs)) == len(names)


def test_import_applies_after_commit_bumps_the_catalog_version(
    django_capture_on_commit_callbacks,
):
    version = catalog_version()
    with django_capture_on_commit_callbacks(execute=True):
        wine_import(file=csv_file(ROW))
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


# --- Bad input: a clear message, nothing written ---------------------------------------------


def test_wrong_encoding():
    data = (HEADER + "\n" + ROW.replace("Clos", "Clos à l'été") + "\n").encode("cp1252")
    report = apply(io.BytesIO(data))
    assert "not UTF-8" in report.file_error
    assert not report.applied and nothing_written()


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


def test_empty_file():
    for content in (b"", b"\xef\xbb\xbf", b"  \n\n"):
        assert apply(io.BytesIO(content)).file_error == "The file is empty."
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


def test_twenty_megabytes_of_random_bytes():
    data = random.Random(6).randbytes(20 * 1024 * 1024)
    report = apply(io.BytesIO(data))
    assert report.file_error
    assert "not UTF-8" in report.file_error or "NUL" in report.file_error
    assert nothing_written()


def test_an_xlsx_that_is_a_zip_of_something_else():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("notes.txt", "not a workbook")
    archive.seek(0)
    report = apply(archive, format_hint="xlsx")
    assert report.file_error.startswith("The file is not an Excel workbook (.xlsx)")
    # Chosen as XLSX, but CSV text.
    assert "not an Excel workbook" in apply(csv_file(ROW), format_hint="xlsx").file_error
    assert nothing_written()


def test_nul_bytes_are_a_clear_error():
    report = apply(io.BytesIO((HEADER + "\nA1,\x00,x\n").encode()))
    assert report.file_error == "Row 2 holds a NUL character: the file is not CSV text."
    assert nothing_written()


@examples
@given(data=st.binary(max_size=3000))
def test_random_bytes_never_raise_nor_write(data):
    report = apply(io.BytesIO(data))
    assert not report.applied or report.rows
    assert report.rows == report.new + report.updated + report.unchanged + report.invalid
    if not report.applied:
        assert nothing_written()
    Wine.objects.all().delete()
    Region.objects.all().delete()
    Category.objects.all().delete()
    Country.objects.all().delete()


CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "-1", "12.50", "2019", "2999", "NV", "Red", "France", "yes", "=1+1"]),
)


@examples
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=12), min_size=1, max_size=8))
def test_random_rows_are_counted_and_all_or_nothing(rows):
    out = io.StringIO()
    import csv

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
    Wine.objects.all().delete()
    Region.objects.all().delete()
    Category.objects.all().delete()
    Country.objects.all().delete()


# --- Files past the limits: refused whole, with no row number, nothing written ----------------


def test_a_workbook_declaring_a_huge_sheet_is_refused():
    report = apply(workbooks.huge_dimension())
    assert report.file_error.startswith(
        "The sheet declares 1,048,576 rows (its dimension is A1:XFD1048576); "
        "the import takes up to 200,000 rows per file."
    )
    assert not report.rows
    assert nothing_written()


def test_a_workbook_declaring_too_many_columns_is_refused(settings):
    settings.IMPORT_MAX_COLUMNS = 20
    report = apply(workbooks.with_dimension(workbooks.workbook([HEADER.split(",")]), "A1:Z3"))
    assert report.file_error.startswith(
        "The file has a sheet of 26 columns (its dimension is A1:Z3); "
        "the import takes up to 20 columns."
    )


def test_a_shared_strings_bomb_is_refused(settings):
    settings.IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES = 4 * 1024 * 1024
    bomb = workbooks.shared_strings_bomb(5 * 1024 * 1024)
    assert len(bomb.getvalue()) < 20_000
    report = apply(bomb)
    assert report.file_error.startswith(
        "The workbook unpacks to 5.0\xa0MB; the import takes workbooks up to 4.0\xa0MB unpacked."
    )
    assert nothing_written()


def test_a_part_unpacking_hundreds_of_times_its_size_is_refused():
    report = apply(workbooks.shared_strings_bomb(5 * 1024 * 1024))
    assert report.file_error.startswith("The workbook (xl/sharedStrings.xml) unpacks to 4")
    assert "more than the 100 times a spreadsheet program writes" in report.file_error
    assert nothing_written()


@pytest.mark.parametrize("dimension", [None, "A1:K2"], ids=["no dimension", "a false one"])
def test_rows_are_counted_as_they_stream(settings, dimension):
    rows = [HEADER.split(","), *([f"S{n}", *workbooks.ROW[1:]] for n in range(6))]
    content = workbooks.workbook(rows)
    settings.IMPORT_MAX_ROWS = 5
    report = apply(workbooks.with_dimension(content, dimension))
    assert report.file_error == (
        "The file has more than 5 rows; the import takes up to 5 rows per file. "
        "Split it into smaller files."
    )
    assert nothing_written()
    # Within the limit, a sheet that understates its size is read whole, not cut off.
    settings.IMPORT_MAX_ROWS = 6
    assert apply(workbooks.with_dimension(content, dimension)).new == 6


def test_a_workbook_row_wider_than_the_limit_is_refused(settings):
    settings.IMPORT_MAX_COLUMNS = 12
    rows = [HEADER.split(","), [*workbooks.ROW, "", None, "x"]]
    report = apply(workbooks.with_dimension(workbooks.workbook(rows), None))
    assert report.file_error.startswith(
        "The file has rows of 14 columns; the import takes up to 12"
    )
    assert nothing_written()


def test_empty_formatted_cells_far_to_the_right_count_as_columns():
    book = openpyxl.Workbook()
    book.active.append(HEADER.split(","))
    book.active.append(workbooks.ROW)
    book.active.cell(row=2, column=78).font = openpyxl.styles.Font(bold=True)  # BZ2, no value
    out = io.BytesIO()
    book.save(out)
    report = apply(workbooks.with_dimension(out.getvalue(), None))
    assert report.file_error.startswith(
        "The file has rows of 78 columns; the import takes up to 50"
    )
    assert nothing_written()


def test_a_csv_with_too_many_rows_is_refused(settings):
    settings.IMPORT_MAX_ROWS = 3
    report = apply(csv_file(*(ROW.replace("A1", f"S{n}") for n in range(4))))
    assert report.file_error.startswith("The file has more than 3 rows;")
    assert nothing_written()
    settings.IMPORT_MAX_ROWS = 4
    assert apply(csv_file(*(ROW.replace("A1", f"S{n}") for n in range(4)))).new == 4


def test_a_csv_with_too_many_columns_is_refused():
    report = apply(csv_file(ROW + "," * 60))
    assert report.file_error.startswith(
        "The file has rows of 71 columns; the import takes up to 50"
    )
    assert nothing_written()


def test_a_csv_cell_past_the_limit_is_refused(settings):
    settings.IMPORT_MAX_CELL_CHARS = 100
    report = apply(csv_file(ROW.replace("Dark fruit.", '"' + "x\n" * 60 + '"')))
    assert report.file_error == (
        "A cell of the file holds more than 100 characters; the import takes cells up to 100 "
        "characters."
    )
    assert nothing_written()


def test_a_csv_line_longer_than_any_row_is_refused(settings):
    settings.IMPORT_MAX_CELL_CHARS = 100
    report = apply(io.BytesIO(HEADER.encode() + b"\n" + b"," * 1_000_000))
    assert report.file_error.startswith("A line of the file is longer than 5,150 characters")
    assert nothing_written()
