"""Workbooks that weigh little and unpack or expand to a lot, built for the import's tests."""

import io
import re
import zipfile

import openpyxl

HEADER = "sku,name,producer,vintage,category,country,region,price,stock,description,available"
ROW = ["A1", "Clos du Test", "Domaine Un", 2019, "Red", "France", "Bordeaux", 12.5, 6, "", "yes"]


def workbook(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewrite(content: bytes, parts: dict[str, bytes | str]) -> io.BytesIO:
    """Return the workbook with some parts replaced or added."""
    replaced = dict(parts)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for info in source.infolist():
            data = replaced.pop(info.filename, None)
            target.writestr(info.filename, data if data is not None else source.read(info))
        for name, data in replaced.items():
            target.writestr(name, data)
    out.seek(0)
    return out


def with_dimension(content: bytes, ref: str | None) -> io.BytesIO:
    """Return the workbook with its sheet's dimension set to ref, or removed (None)."""
    with zipfile.ZipFile(io.BytesIO(content)) as source:
        sheet = source.read("xl/worksheets/sheet1.xml").decode()
    element = f'<dimension ref="{ref}" />' if ref else ""
    sheet = re.sub(r"<dimension [^>]*/>", element, sheet)
    return rewrite(content, {"xl/worksheets/sheet1.xml": sheet})


def huge_dimension() -> io.BytesIO:
    """A workbook of two rows declaring 16,384 columns by 1,048,576 rows."""
    return with_dimension(workbook([HEADER.split(","), ROW]), "A1:XFD1048576")


def shared_strings_bomb(unpacked_bytes: int) -> io.BytesIO:
    """A workbook whose shared strings unpack to unpacked_bytes (about 1000 times their size)."""
    item = b"<si><t>Chateau</t></si>"
    count = unpacked_bytes // len(item) + 1
    strings = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        + f'count="{count}" uniqueCount="{count}">'.encode()
        + item * count
        + b"</sst>"
    )
    content = workbook([HEADER.split(","), ROW])
    with zipfile.ZipFile(io.BytesIO(content)) as source:
        types = source.read("[Content_Types].xml").decode()
    types = types.replace(
        "</Types>",
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    return rewrite(content, {"xl/sharedStrings.xml": strings, "[Content_Types].xml": types})
