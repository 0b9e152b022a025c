from decimal import Decimal

from reportlab.platypus import PageBreak

from reports.pdf import build, percent, style, text
from reports.tests.pdf import pdf_pages


def test_rates_are_shown_as_percentages_without_trailing_zeros():
    assert percent(Decimal("0.20")) == "20 %"
    assert percent(Decimal("0.055")) == "5.5 %"


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
