"""Read generated PDFs back as text, page by page, the way an accountant's tools would."""

import io

from pypdf import PdfReader


def pdf_pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def pdf_text(content: bytes) -> str:
    return "\n".join(pdf_pages(content))


def read_invoice(invoice) -> bytes:
    with invoice.file.open("rb") as handle:
        return handle.read()
