"""What invoices and sales reports share: the embedded font, styles, "page x of y" footers."""

from functools import cache
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, TableStyle

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
MARGIN = 18 * mm
INK = colors.HexColor("#1f2328")
MUTED = colors.HexColor("#6e7781")
WINE = colors.HexColor("#8a1c2b")
RULE = colors.HexColor("#d0d7de")
SHADE = colors.HexColor("#f6f8fa")


@cache
def register_fonts() -> None:
    """Embed DejaVu Sans: reportlab's standard fonts lack many accented letters."""
    pdfmetrics.registerFont(TTFont(FONT, FONT_DIR / "DejaVuSans.ttf"))
    pdfmetrics.registerFont(TTFont(BOLD, FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


def style(name: str, *, size: float = 9, bold: bool = False, **options) -> ParagraphStyle:
    register_fonts()
    return ParagraphStyle(
        name,
        fontName=BOLD if bold else FONT,
        fontSize=size,
        leading=size * 1.3,
        textColor=options.pop("textColor", INK),
        **options,
    )


def text(value, paragraph_style: ParagraphStyle) -> Paragraph:
    """Return a paragraph showing value as it is: names may hold "&" or "<"."""
    return Paragraph(escape(str(value)), paragraph_style)


def one_line(value: str, paragraph_style: ParagraphStyle, width: float) -> bool:
    """Return whether text(value, paragraph_style) is one line of value as it is, in width: not
    empty, no white space that the paragraph folds, and short enough (a point to spare)."""
    if not value or value != " ".join(value.split()):
        return False
    return stringWidth(value, paragraph_style.fontName, paragraph_style.fontSize) <= width - 1


class TextLine(Flowable):
    """Show value as text(value, paragraph_style) does, drawn in the paragraph's place when it
    fits one line (parsing and laying out a paragraph costs many times more), and as that
    paragraph when it wraps."""

    def __init__(self, value, paragraph_style: ParagraphStyle):
        super().__init__()
        self.value = str(value)
        self.style = paragraph_style
        self._paragraph = None

    def wrap(self, availWidth, availHeight):
        if self._paragraph is None and one_line(self.value, self.style, availWidth):
            self.width, self.height = availWidth, self.style.leading
            return self.width, self.height
        self._paragraph = self._paragraph or text(self.value, self.style)
        return self._paragraph.wrap(availWidth, availHeight)

    def split(self, availWidth, availHeight):
        self.wrap(availWidth, availHeight)
        return self._paragraph.split(availWidth, availHeight) if self._paragraph else []

    def draw(self):
        if self._paragraph is not None:
            self._paragraph.drawOn(self.canv, 0, 0)
            return
        style = self.style
        self.canv.setFillColor(style.textColor)
        self.canv.setFont(style.fontName, style.fontSize, style.leading)
        self.canv.drawString(0, style.leading - style.fontSize, self.value)


def table_style(*, numeric_from: int) -> TableStyle:
    """A header row in wine red, light rules, figures right-aligned from column numeric_from."""
    return TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), FONT, 8.5),
            ("FONT", (0, 0), (-1, 0), BOLD, 8.5),
            ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
            ("BACKGROUND", (0, 0), (-1, 0), WINE),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, SHADE]),
            ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
            ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
    )


def numbered_canvas(footer: str):
    """Return a canvas class that writes footer and "Page x of y" on every page once the page
    count is known (after the whole document is laid out)."""

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for page in self._pages:
                self.__dict__.update(page)
                self.setFont(FONT, 7.5)
                self.setFillColor(MUTED)
                self.drawString(MARGIN, 10 * mm, footer)
                self.drawRightString(A4[0] - MARGIN, 10 * mm, f"Page {self._pageNumber} of {total}")
                super().showPage()
            super().save()

    return NumberedCanvas


def build(story: list, *, title: str, footer: str, author: str | None = None) -> bytes:
    """Return the PDF of story; author defaults to the shop's legal name as it is now."""
    register_fonts()
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=20 * mm,
        title=title,
        author=settings.SHOP_LEGAL_NAME if author is None else author,
    )
    document.build(story, canvasmaker=numbered_canvas(footer))
    return buffer.getvalue()
