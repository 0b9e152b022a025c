"""The SKUs a file has shown so far (shop.imports.skus)."""

import pytest

from shop.imports import BATCH_ROWS, wine_file_apply
from shop.imports.skus import SeenSkus
from shop.tests.wine_files import csv_file, messages


def test_a_sku_seen_again_gives_the_row_it_was_first_on():
    seen = SeenSkus()
    assert seen.first_row("A1", 2) is None
    assert seen.first_row("a1", 3) is None  # SKUs are compared as written
    assert seen.first_row("A1", 7) == 2
    assert seen.first_row("A1", 9) == 2
    seen.close()


@pytest.mark.django_db
def test_a_sku_repeated_batches_later_is_reported_with_its_first_row():
    rows = [f"S{i:05d},Wine {i},Dom,2019,Red,France,,9.50,1,,yes" for i in range(BATCH_ROWS + 5)]
    rows.append("S00003,Again,Dom,2019,Red,France,,9.50,1,,yes")
    report = wine_file_apply(file=csv_file(*rows))
    assert report.invalid == 1
    assert messages(report) == [f"Row {BATCH_ROWS + 7}, sku: “S00003” is also on row 5."]
