from reportlab.platypus import PageBreak

from reports.pdf import TextLine, build, style, text
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
