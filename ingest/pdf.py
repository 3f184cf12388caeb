"""PDF -> cleaned text per page (pypdf) -> one Section per page.

Pages stay separate so every passage can cite its page. Cleaning repairs
what PDF text extraction breaks: words hyphenated across line ends, lines
wrapped mid-sentence, running headers/footers and page numbers repeated on
every page. Pages from the References section on are not answerable text
and are left out.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PdfReadError, PyPdfError

from ingest.config import Settings
from ingest.errors import IngestError
from ingest.langid import detect_language
from ingest.models import PaperDoc, Section, SourceDoc, find_arxiv_id, sha256_bytes

REFERENCES = re.compile(r"^\s*(?:\d+\.?\s*)?(references|bibliography|参考文献|참고문헌)\s*$", re.I)
HEADING = re.compile(
    r"^(?:\d+(?:\.\d+)*\.?\s+[A-Z][\w\-]*(?:\s+[\w\-]+){0,7}"
    r"|(?:abstract|introduction|related work|background|methods?|experiments?|results"
    r"|discussion|conclusions?|acknowledge?ments|appendix|limitations))$",
    re.I,
)
PAGE_NUMBER = re.compile(r"^\s*(?:page\s*)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?\s*$", re.I)
ARXIV_STAMP = re.compile(r"arXiv:(\d{4}\.\d{4,5})(v\d+)?")


@dataclass
class PdfText:
    title: str | None
    pages: list[str]  # cleaned text per page, index 0 = page 1
    arxiv_id: str | None = None
    metadata: dict = field(default_factory=dict)
    references_from_page: int | None = None


def extract_pdf(data: bytes | Path, *, max_pages: int, name: str = "PDF") -> PdfText:
    """Read and clean every page; one-line IngestErrors for PDFs we cannot use."""
    raw = data.read_bytes() if isinstance(data, Path) else data
    if not raw.startswith(b"%PDF-"):
        kind = "HTML" if raw.lstrip()[:15].lower().startswith((b"<!doctype", b"<html")) else "data"
        raise IngestError(f"{name}: not a PDF (got {kind})")
    try:
        reader = PdfReader(io.BytesIO(raw), strict=False)
        if reader.is_encrypted:
            raise IngestError(f"{name}: encrypted PDF, cannot read")
        count = len(reader.pages)
        if count > max_pages:
            raise IngestError(f"{name}: {count} pages is over the {max_pages}-page limit")
        texts = [page.extract_text() or "" for page in reader.pages]
        metadata = {k.lstrip("/"): str(v) for k, v in (reader.metadata or {}).items()}
    except IngestError:
        raise
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise IngestError(f"{name}: not a valid PDF (truncated or corrupt)") from exc
    if not any(t.strip() for t in texts):
        raise IngestError(f"{name}: no text layer (scanned?), OCR not supported")
    pages = clean_pages(texts)
    return PdfText(
        title=_title(metadata, pages),
        pages=pages,
        arxiv_id=_arxiv_id(texts),
        metadata=metadata,
        references_from_page=_references_page(pages),
    )


def pdf_sections(pdf: PdfText) -> list[Section]:
    """One Section per answerable page (before References), with its page number."""
    last = (pdf.references_from_page or len(pdf.pages) + 1) - 1
    sections = []
    for number, text in enumerate(pdf.pages[:last], 1):
        body = _before_references(text) if number == pdf.references_from_page else text
        if body.strip():
            sections.append(
                Section(
                    "pdf",
                    body,
                    detect_language(body[:1000]),
                    page=number,
                    heading=_first_heading(body),
                )
            )
    if pdf.references_from_page:
        head = _before_references(pdf.pages[pdf.references_from_page - 1])
        if head.strip():
            page = pdf.references_from_page
            sections.append(Section("pdf", head, detect_language(head[:1000]), page=page))
    return sections


def parse_pdf_bytes(data: bytes, *, uri: str, settings: Settings) -> SourceDoc:
    """A local or uploaded PDF -> a SourceDoc with one paper."""
    pdf = extract_pdf(data, max_pages=settings.max_pdf_pages, name=uri)
    arxiv_id = pdf.arxiv_id or find_arxiv_id(Path(uri).name)
    title = pdf.title or Path(uri).stem
    links = {}
    if arxiv_id:
        links = {
            "paper": f"{settings.arxiv_abs_url.rstrip('/')}/{arxiv_id}",
            "pdf": f"{settings.arxiv_pdf_url.rstrip('/')}/{arxiv_id}",
        }
    paper = PaperDoc(
        title=title,
        titles={detect_language(title) or "en": title},
        arxiv_id=arxiv_id,
        authors=[a.strip() for a in pdf.metadata.get("Author", "").split(",") if a.strip()],
        links=links,
        sections=pdf_sections(pdf),
    )
    return SourceDoc(uri, sha256_bytes(data), "pdf", [paper], title=title)


# ---- cleaning -------------------------------------------------------------------


def clean_pages(texts: list[str]) -> list[str]:
    """Drop running headers/footers, then repair each page's lines into paragraphs."""
    repeated = _repeated_lines(texts)
    return [_paragraphs([ln for ln in t.splitlines() if _keep(ln, repeated)]) for t in texts]


def _repeated_lines(texts: list[str]) -> set[str]:
    """Lines (digits ignored) on most pages' first or last lines: headers and footers."""
    if len(texts) < 3:
        return set()
    counts: Counter[str] = Counter()
    for text in texts:
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        edges = {_shape(ln) for ln in lines[:2] + lines[-2:]}
        counts.update(edges)
    return {shape for shape, n in counts.items() if n >= max(3, 0.6 * len(texts))}


def _keep(line: str, repeated: set[str]) -> bool:
    stripped = line.strip()
    return bool(stripped) and not PAGE_NUMBER.match(stripped) and _shape(stripped) not in repeated


def _shape(line: str) -> str:
    return re.sub(r"\d+", "#", line.strip().lower())


def _paragraphs(lines: list[str]) -> str:
    """Join wrapped lines; mend hyphenation; keep headings and short lines apart."""
    out: list[str] = []
    for line in (ln.strip() for ln in lines):
        if not out:
            out.append(line)
            continue
        previous = out[-1]
        starts_block = REFERENCES.match(line) or REFERENCES.match(previous)
        if starts_block or _is_heading(line) or _is_heading(previous):
            out.append(line)
        elif re.search(r"[a-z]-$", previous) and line[:1].islower():
            out[-1] = previous[:-1] + line
        elif re.search(r"[.:!?。]$", previous) and len(previous) < 60:
            out.append(line)
        else:
            joiner = "" if _cjk(previous[-1:]) and _cjk(line[:1]) else " "
            out[-1] = previous + joiner + line
    return "\n".join(out)


def _is_heading(line: str) -> bool:
    return len(line) < 70 and bool(HEADING.match(line)) and not line.endswith(".")


def _cjk(ch: str) -> bool:
    return bool(ch) and (
        "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af"
    )


def _references_page(pages: list[str]) -> int | None:
    """The page where References starts (only in the second half of the paper)."""
    for number, text in enumerate(pages, 1):
        if number > max(1, len(pages) // 3) and any(
            REFERENCES.match(ln) for ln in text.splitlines()
        ):
            return number
    return None


def _before_references(text: str) -> str:
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if REFERENCES.match(line):
            return "\n".join(lines[:index])
    return text


def _first_heading(text: str) -> str | None:
    return next((ln for ln in text.splitlines() if _is_heading(ln)), None)


def _title(metadata: dict, pages: list[str]) -> str | None:
    title = (metadata.get("Title") or "").strip()
    if title and title.lower() not in ("untitled", "microsoft word"):
        return title
    for line in (pages[0] if pages else "").splitlines():
        if 8 <= len(line.strip()) <= 200 and not ARXIV_STAMP.search(line):
            return line.strip()
    return None


def _arxiv_id(texts: list[str]) -> str | None:
    for text in texts[:2]:
        if match := ARXIV_STAMP.search(text):
            return match.group(1)
    return None
