"""What invoices and sales reports share: the embedded font, styles, "page x of y" footers; and
the documents' table of lines (Rows)."""

from functools import cache
from io import BytesIO
from itertools import accumulate
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


class Rows(Flowable):
    """A table of lines as a Table styled by table_style(numeric_from=...) with repeatRows=1
    draws it, point for point, at a fraction of the cost: every cell but the first of a row is
    one line of text, so rows are measured once and their text drawn in one text object (broken
    only around a wrapped name) rather than cell by cell. Split across pages between rows, the
    header repeated on each page.

    The first cell of a row is a string of one line in first_style, or a paragraph in that
    style when it wraps; the other cells are strings in the table's font.
    """

    PADDING = 3  # above and below every cell
    SIDE = 6  # left and right of every cell
    SIZE = 8.5
    LEADING = SIZE * 1.2  # a Table's, for a font given without one

    def __init__(
        self,
        header,
        rows,
        widths,
        *,
        numeric_from: int,
        first_style: ParagraphStyle,
        continued: bool = False,
        heights: list[float] | None = None,
    ):
        super().__init__()
        self.header, self.rows, self.widths = list(header), list(rows), list(widths)
        self.numeric_from = numeric_from
        self.first_style = first_style
        # The part after a page break: a Table rules its first row above as well.
        self.continued = continued
        self._heights = heights
        # Centred as a Table is: as wide as the page's text, it overhangs the frame's padding
        # evenly on both sides.
        self.hAlign = "CENTER"

    def _measure(self) -> list[float]:
        """Return the height of each row, the header's first; wrap the paragraphs once."""
        if self._heights is None:
            one_line = max(self.first_style.leading, self.LEADING)
            inner = self.widths[0] - 2 * self.SIDE
            self._heights = [self.LEADING + 2 * self.PADDING] + [
                2 * self.PADDING
                + (one_line if isinstance(first, str) else first.wrap(inner, 1e6)[1])
                for first, *_ in self.rows
            ]
        return self._heights

    def wrap(self, availWidth, availHeight):
        self.width, self.height = sum(self.widths), sum(self._measure())
        return self.width, self.height

    def split(self, availWidth, availHeight):
        heights, used, fit = self._measure(), 0, 0
        for height in heights:
            if used + height > availHeight:
                break
            used, fit = used + height, fit + 1
        if fit <= 1:  # the header is never left alone at the foot of a page
            return []
        if fit == len(heights):
            return [self]
        parts = (
            (self.rows[: fit - 1], self.continued, heights[:fit]),
            (self.rows[fit - 1 :], True, heights[:1] + heights[fit:]),
        )
        return [
            Rows(
                self.header,
                rows,
                self.widths,
                numeric_from=self.numeric_from,
                first_style=self.first_style,
                continued=continued,
                heights=measured,
            )
            for rows, continued, measured in parts
        ]

    def draw(self):
        canv, widths, heights = self.canv, self.widths, self._measure()
        lefts = [sum(widths[:column]) for column in range(len(widths))]
        tops = [self.height - above for above in accumulate(heights, initial=0)]
        canv.saveState()
        canv.setFillColor(WINE)
        canv.rect(0, tops[0], self.width, -heights[0], stroke=0, fill=1)
        for row in range(1, len(heights)):
            canv.setFillColor(SHADE if row % 2 == 0 else colors.white)
            canv.rect(0, tops[row], self.width, -heights[row], stroke=0, fill=1)
        text, current = canv.beginText(), None
        for row, cells in enumerate([self.header, *self.rows]):
            bottom, height = tops[row + 1], heights[row]
            for column, cell in enumerate(cells):
                if not isinstance(cell, str):  # a paragraph, wrapped by _measure
                    # Drawn in its turn, for text tools to read the cells in their order.
                    canv.drawText(text)
                    cell.drawOn(canv, self.SIDE, bottom + (height - cell.height) / 2)
                    text, current = canv.beginText(), None
                    continue
                if row == 0:
                    font, color, leading = BOLD, colors.white, self.LEADING
                elif column == 0:
                    font, color, leading = (
                        FONT,
                        self.first_style.textColor,
                        self.first_style.leading,
                    )
                else:
                    font, color, leading = FONT, colors.black, self.LEADING  # a Table's default
                if (font, color, leading) != current:
                    text.setFont(font, self.SIZE, leading)
                    text.setFillColor(color)
                    current = font, color, leading
                x = lefts[column] + self.SIDE
                if column >= self.numeric_from:
                    x = lefts[column] + widths[column] - self.SIDE
                    x -= stringWidth(cell, font, self.SIZE)
                # Centred in the row as a Table places a line of text.
                text.setTextOrigin(x, bottom + (height + leading) / 2 - self.SIZE)
                # A line each, as drawString ends it: text tools read one cell per line.
                text.textLine(cell)
        canv.drawText(text)
        canv.setLineCap(1)  # round, as a Table's rules
        canv.setLineJoin(1)
        canv.setStrokeColor(RULE)
        canv.setLineWidth(0.25)
        for top in tops[1 if self.continued else 2 :]:
            canv.line(0, top, self.width, top)
        canv.restoreState()


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
