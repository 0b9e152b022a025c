from reportlab.platypus import PageBreak

from reports.pdf import build, style, text
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
