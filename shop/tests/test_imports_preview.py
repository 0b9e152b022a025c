"""What a wine import's preview shows before anything is written: each new and updated wine with
its fields old → new, blank cells over values, and new names that look like typos."""

from decimal import Decimal

import pytest

from shop.imports import FieldChange, wine_file_apply
from shop.imports.names import edit_distance, look_alike
from shop.models import Wine
from shop.tests.factories import CategoryFactory, CountryFactory, RegionFactory, WineFactory
from shop.tests.wine_files import apply, csv_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def bordeaux():
    return RegionFactory(name="Bordeaux", slug="bordeaux", country=CountryFactory(name="France"))


@pytest.fixture
def margaux(bordeaux):
    return WineFactory(
        sku="M1",
        name="Margaux",
        producer="Château Un",
        vintage=2018,
        category=CategoryFactory(name="Red"),
        region=bordeaux,
        price=Decimal("30.00"),
        stock=12,
        description="Cassis and cedar.",
    )


def row(**changes) -> str:
    """Return margaux's row as a file has it, with some cells changed."""
    cells = {
        "sku": "M1",
        "name": "Margaux",
        "producer": "Château Un",
        "vintage": "2018",
        "category": "Red",
        "country": "France",
        "region": "Bordeaux",
        "price": "30.00",
        "stock": "12",
        "description": "Cassis and cedar.",
        "available": "yes",
    }
    return ",".join({**cells, **changes}.values())


def test_preview_lists_each_changed_field_of_an_updated_wine_with_old_and_new_values(margaux):
    CategoryFactory(name="White")
    preview = wine_file_apply(
        file=csv_file(
            row(price="32.50", category="White", stock="6"),
            "N1,Blanc,Domaine Deux,2021,Sparkling,France,Loire,9.90,3,,yes",
        )
    )

    updated, new = preview.wine_changes
    assert (updated.row, updated.sku, updated.name, updated.new) == (2, "M1", "Margaux", False)
    assert updated.fields == [
        FieldChange("category", "Red", "White"),
        FieldChange("price", "30.00", "32.50"),
        FieldChange("stock", "12", "6"),
    ]
    assert (new.sku, new.new) == ("N1", True)
    assert {f.field: f.new for f in new.fields} == {
        "name": "Blanc",
        "producer": "Domaine Deux",
        "vintage": "2021",
        "category": "Sparkling",
        "country": "France",
        "region": "Loire",
        "price": "9.90",
        "stock": "3",
        "available": "yes",
    }
    assert Wine.objects.get(sku="M1").price == Decimal("30.00")


def test_an_unchanged_wine_is_not_listed(margaux):
    preview = wine_file_apply(file=csv_file(row()))
    assert (preview.unchanged, preview.wine_changes) == (1, [])


def test_blank_cells_leave_values_as_they_are_by_default(margaux):
    file = csv_file(row(vintage="", region="", description=""))

    preview = wine_file_apply(file=file)

    assert (preview.updated, preview.unchanged, preview.wine_changes) == (0, 1, [])
    assert preview.blank_count == 3
    assert [(b.row, b.sku, b.column, b.value) for b in preview.blank_cells] == [
        (2, "M1", "vintage", "2018"),
        (2, "M1", "region", "Bordeaux"),
        (2, "M1", "description", "Cassis and cedar."),
    ]
    assert apply(file).ok
    margaux.refresh_from_db()
    assert (margaux.vintage, margaux.region.name, margaux.description) == (
        2018,
        "Bordeaux",
        "Cassis and cedar.",
    )


def test_blank_cells_erase_values_when_the_merchant_chooses_so(margaux):
    file = csv_file(row(vintage="", region="", description="", price="31.00"))

    preview = wine_file_apply(file=file, erase_blanks=True)

    assert (preview.updated, preview.blank_count, preview.erase_blanks) == (1, 3, True)
    (change,) = preview.wine_changes
    assert change.fields == [
        FieldChange("vintage", "2018", "", erases=True),
        FieldChange("region", "Bordeaux", "", erases=True),
        FieldChange("price", "30.00", "31.00"),
        FieldChange("description", "Cassis and cedar.", "", erases=True),
    ]
    assert apply(file, erase_blanks=True).ok
    margaux.refresh_from_db()
    assert (margaux.vintage, margaux.region, margaux.description) == (None, None, "")


def test_nv_erases_the_vintage_whatever_blank_cells_do(margaux):
    preview = wine_file_apply(file=csv_file(row(vintage="NV")))
    assert preview.blank_count == 0
    assert preview.wine_changes[0].fields == [FieldChange("vintage", "2018", "")]


def test_a_blank_region_goes_when_the_country_changes(margaux):
    CountryFactory(name="Italy")
    assert apply(csv_file(row(country="Italy", region=""))).ok
    margaux.refresh_from_db()
    assert (margaux.country.name, margaux.region) == ("Italy", None)


def test_a_blank_stock_cell_leaves_the_stock_of_an_otherwise_unchanged_wine(margaux):
    file = csv_file(row(stock=""))
    assert wine_file_apply(file=file).unchanged == 1
    report = apply(csv_file(row(stock="", price="29.00")))
    assert (report.ok, report.updated) == (True, 1)
    margaux.refresh_from_db()
    assert (margaux.stock, margaux.price) == (12, Decimal("29.00"))


def test_new_names_that_look_like_typos_of_the_catalogs_get_a_did_you_mean(margaux):
    CategoryFactory(name="Rosé")
    preview = wine_file_apply(
        file=csv_file(
            row(sku="T1", region="Bordaux"),
            row(sku="T2", category="Rose"),
            row(sku="T3", country="Frnace", region=""),
            row(sku="T4", category="Sparkling", country="Italy", region="Piemonte"),
        )
    )

    hints = [(h.kind, h.name, h.existing) for h in preview.name_hints]
    assert hints == [
        ("region", "Bordaux (France)", "Bordeaux"),
        ("category", "Rose", "Rosé"),
        ("country", "Frnace", "France"),
    ]
    assert "New region “Bordaux (France)”: did you mean “Bordeaux”?" in preview.summary_lines()


@pytest.mark.parametrize(
    ("name", "known", "found"),
    [
        ("Bordaux", ["Bordeaux", "Bourgogne"], "Bordeaux"),
        ("CHATEAU", ["Château"], "Château"),
        ("Rhone", ["Rhône"], "Rhône"),
        ("Red", ["Rosé", "White"], ""),
        ("Rot", ["Red"], ""),
        ("Italy", ["France"], ""),
        ("Champagn", ["Champagne", "Champagnes"], "Champagne"),
    ],
)
def test_look_alike(name, known, found):
    assert look_alike(name, known) == found


def test_edit_distance_stops_past_its_limit():
    assert edit_distance("bordaux", "bordeaux", 2) == 1
    assert edit_distance("frnace", "france", 2) == 2
    assert edit_distance("alsace", "provence", 2) == 3
