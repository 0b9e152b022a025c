import pytest
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Table

from reports.pdf import Rows, TextLine, build, style, table_style, text
from reports.tests.pdf import pdf_pages


def test_every_page_carries_the_footer_and_its_number_of_the_total(settings):
    settings.SHOP_LEGAL_NAME = "Caves Lagrézette SARL"
    paragraph = style("body")
    story = [text("Première page", paragraph), PageBreak(), text("Deuxième page", paragraph)]
    story += [PageBreak(), text("Troisième & <dernière> page", paragraph)]

    pages = pdf_pages(build(story, title="Essai", footer="Caves Lagrézette · Essai"))

    assert len(pages) == 3
    for number, page in enumerate(pages, start=1):
        assert "Caves Lagrézette · Essai" in page
        assert f"Page {number} of 3" in page
    assert "Troisième & <dernière> page" in pages[2]


def test_a_text_line_takes_the_place_of_its_paragraph_and_wraps_as_it_does():
    body = style("body", size=10)
    short, long = "Zoë & <Fils>", "Caves Lagrézette, 3 quai des Chartrons, 33000 Bordeaux " * 3
    for value in (short, long, "  Clos   des Papes "):
        assert TextLine(value, body).wrap(200, 800) == text(value, body).wrap(200, 800), value

    story = [TextLine(short, body), TextLine(long, body), TextLine("Clos  des Papes", body)]
    [page] = pdf_pages(build(story, title="Essai", footer="Essai"))

    assert "Zoë & <Fils>" in page
    assert "Clos des Papes" in page
    assert long.strip() not in page  # on three lines, as the paragraph folds it
    assert page.count("Lagrézette") == 3


def test_rows_take_the_height_and_page_breaks_of_the_table_they_replace():
    cell = style("cell", size=8.5)
    header = ["Wine", "Vintage", "SKU", "Qty", "Unit price", "Line total"]
    wrapped = "Domaine de la Romanée-Conti Grand Cru Monopole Vieilles Vignes & <cuvée>"
    names = [text(wrapped, cell) if n % 3 == 0 else "Château Lagrézette" for n in range(60)]
    data = [[name, "2015", f"SKU-{n:05d}", "2", "€24.90", "€49.80"] for n, name in enumerate(names)]
    widths = [72 * mm, 16 * mm, 26 * mm, 12 * mm, 24 * mm, 24 * mm]
    table = Table([header, *data], colWidths=widths, repeatRows=1)
    table.setStyle(table_style(numeric_from=3))
    table.setStyle([("LEADING", (0, 1), (0, -1), cell.leading)])
    rows = Rows(header, data, widths, numeric_from=3, first_style=cell)

    assert rows.wrap(481, 700) == pytest.approx(table.wrap(481, 700))
    for room in (20, 40, 300, 700):  # the header alone never fits: no part at all
        parts, table_parts = rows.split(481, room), table.split(481, room)
        assert len(parts) == len(table_parts), room
        for part, table_part in zip(parts, table_parts, strict=True):
            assert part.wrap(481, room) == pytest.approx(table_part.wrap(481, room)), room
            assert part.header == header
