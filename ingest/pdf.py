"""PDF -> positioned lines (pdflayout) -> cleaned text per page -> one Section per page.

Pages stay separate so every passage can cite its page. `ingest.pdflayout`
puts each page's lines in reading order and drops margin furniture (arXiv
stamp, running heads, page and line numbers); this module repairs what is
left of the text: ligatures, words hyphenated across line ends, lines
wrapped mid-sentence. It also reads the front matter of page 1 (title,
authors, abstract) and the arXiv id from the margin stamp.

The References section is not answerable text and is left out. Appendices
that follow it (a heading such as "Appendix", "A Proofs", "B.1 Setup", or a
page with a figure's caption and no reference entries) are kept: they
are often a third of a paper and are cited like any other page.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from paperlens.ingest.config import Settings
from paperlens.ingest.documents import PaperDoc, Section, SourceDoc, find_arxiv_id, sha256_bytes
from paperlens.ingest.errors import IngestError
from paperlens.ingest.headings import is_heading
from paperlens.ingest.langid import detect_language
from paperlens.ingest.pdflayout import (
    PageLines,
    TextLine,
    drop_margins,
    join_table_rows,
    read_pages,
    reading_order,
)

REFERENCES = re.compile(r"^\s*(?:\d+\.?\s*)?(references|bibliography|参考文献|참고문헌)\s*$", re.I)
APPENDIX = re.compile(
    r"^(?:(?i:appendix|appendices|supplementary material)\b.{0,80}"
    r"|[A-H](?:\.\d+)*\.?\s+[A-Z][A-Za-z\-]+(?:\s+[^\s,]+){0,8})$",
)
# After the References, a page that holds a figure or table caption and few reference
# entries starts an appendix whose heading names no "Appendix" or letter (the
# Transformer paper's "Attention Visualizations"): reference lists hold no captions.
REFERENCE_ENTRY = re.compile(r"(?:^|\s)\[\d+\]\s|\b(?:19|20)\d\d[a-z]?\.(?=\s|$)")
MAX_APPENDIX_ENTRIES = 2
# (Anywhere in a line: a caption under a figure's letters is joined to them.)
FIGURE_CAPTION = re.compile(r"(?:^|\s)(?:Figure|Fig\.|Table)\s*[A-Z]?\d+\s*:")
# Words a figure draws letter by letter ("T h e L a w w i l l ...": the Transformer
# paper's attention maps) are no text to read or embed; CJK text is left alone.
LETTER_SPACED = re.compile(r"(?<!\S)(?:[!-~] ){7,}[!-~](?!\S) ?")
ABSTRACT = re.compile(r"^abstract\b[\s.:\u2014\u2013-]*(.*)$", re.I)
ARXIV_STAMP = re.compile(r"arXiv:\s*(\d{4}\.\d{4,5})(v\d+)?")
# pdfium marks a hyphen it saw at a line end as U+0002 (U+FFFE in its page text);
# producers also use U+00AD.
SOFT_HYPHEN = "\ufffe"
LIGATURES = str.maketrans(
    {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
     "\ufb05": "st", "\ufb06": "st", "\u00ad": SOFT_HYPHEN, "\x02": SOFT_HYPHEN}
)  # fmt: skip
AFFILIATION = re.compile(
    r"@|universit|institut|college|school|department|dept\.|laborator|\blab\b|research"
    r"|google|microsoft|meta\b|facebook|openai|deepmind|brain|inc\.|corp|ltd|\bai\b|center"
    r"|centre|academy|technolog|\.com|\.edu|\.org|equal contribution|correspond",
    re.I,
)
# Between names: commas, "and", wide spaces, or affiliation marks ("Peng1∗ Eric Alcaide2,3").
AUTHOR_SEPARATOR = re.compile(
    r",|\band\b|\s{2,}|;|(?<=[a-z\u00e0-\u017f])[\d\*\u2217\u2020\u2021\u00a7\u00b6]+(?:,\d+)*"
)
NAME_WORD = re.compile(
    r"^(?:[A-Z\u00c0-\u017f][\w'\u00c0-\u017f\-]*\.?|van|von|de|der|da|del|la|le)$"
)


@dataclass
class PdfText:
    title: str | None
    pages: list[str]  # cleaned text per page, index 0 = page 1
    arxiv_id: str | None = None
    metadata: dict = field(default_factory=dict)
    references_from_page: int | None = None
    authors: list[str] = field(default_factory=list)
    abstract: str | None = None
    two_column_pages: int = 0


def read_pdf(data: bytes | Path, settings: Settings, *, name: str = "PDF") -> PdfText:
    """`extract_pdf` within the memory and time limits of `settings` (ingest/pdfbox.py):
    how every PDF from outside is read."""
    from paperlens.ingest.pdfbox import extract_pdf_bounded

    return extract_pdf_bounded(
        data,
        max_pages=settings.max_pdf_pages,
        name=name,
        memory_mb=settings.pdf_memory_mb,
        timeout=settings.pdf_timeout,
    )


def extract_pdf(data: bytes | Path, *, max_pages: int, name: str = "PDF") -> PdfText:
    """Read and clean every page; one-line IngestErrors for PDFs we cannot use."""
    raw = data.read_bytes() if isinstance(data, Path) else data
    if not raw.startswith(b"%PDF-"):
        kind = "HTML" if raw.lstrip()[:15].lower().startswith((b"<!doctype", b"<html")) else "data"
        raise IngestError(f"{name}: not a PDF (got {kind})")
    layout, metadata = _read(raw, max_pages=max_pages, name=name)
    if not any(page.lines for page in layout):
        raise IngestError(f"{name}: no text layer (scanned?), OCR not supported")
    drop_margins(layout)
    for page in layout:
        join_table_rows(page)
        reading_order(page)
    body_size = _body_size([ln for page in layout for ln in page.lines])
    pages = [
        _paragraphs([(ln.text, ln.cells > 1 or _styled(ln, body_size)) for ln in page.lines])
        for page in layout
    ]
    front = _front_matter(layout[0], pages[0])
    return PdfText(
        title=front.title or _metadata_title(metadata) or _first_line(pages[0]),
        pages=pages,
        arxiv_id=_arxiv_id(layout, pages),
        metadata=metadata,
        references_from_page=_references_page(pages),
        authors=front.authors,
        abstract=front.abstract,
        two_column_pages=sum(page.two_columns for page in layout),
    )


def _read(raw: bytes, *, max_pages: int, name: str) -> tuple[list[PageLines], dict]:
    try:
        document = pdfium.PdfDocument(raw)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD or "password" in str(exc):
            raise IngestError(f"{name}: encrypted PDF, cannot read") from exc
        raise IngestError(f"{name}: not a valid PDF (truncated or corrupt)") from exc
    try:
        count = len(document)
        if count > max_pages:
            raise IngestError(f"{name}: {count} pages is over the {max_pages}-page limit")
        metadata = {k: v for k, v in document.get_metadata_dict(skip_empty=True).items()}
        return read_pages(document), metadata
    except pdfium.PdfiumError as exc:
        raise IngestError(f"{name}: not a valid PDF (truncated or corrupt)") from exc
    finally:
        document.close()


def pdf_sections(pdf: PdfText) -> list[Section]:
    """One Section per page of answerable text (References left out), with its page number."""
    sections = []
    for number, body in _answerable(pdf):
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
    return sections


def parse_pdf_bytes(data: bytes, *, uri: str, settings: Settings) -> SourceDoc:
    """A local or uploaded PDF -> a SourceDoc with one paper (read in a bounded child)."""
    pdf = read_pdf(data, settings, name=uri)
    arxiv_id = pdf.arxiv_id or find_arxiv_id(Path(uri).name)
    title = pdf.title or Path(uri).stem
    links = {}
    if arxiv_id:
        links = {
            "paper": f"{settings.arxiv_abs_url.rstrip('/')}/{arxiv_id}",
            "pdf": f"{settings.arxiv_pdf_url.rstrip('/')}/{arxiv_id}",
        }
    authors = pdf.authors or [
        a.strip() for a in pdf.metadata.get("Author", "").split(",") if a.strip()
    ]
    paper = PaperDoc(
        title=title,
        titles={detect_language(title) or "en": title},
        arxiv_id=arxiv_id,
        authors=authors,
        abstract=pdf.abstract,
        links=links,
        sections=pdf_sections(pdf),
    )
    return SourceDoc(uri, sha256_bytes(data), "pdf", [paper], title=title)


# ---- cleaning -------------------------------------------------------------------


def _body_size(lines: list[TextLine]) -> float:
    """The font size of most characters (not of most lines: figures have many short ones)."""
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[round(line.size, 1)] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def _styled(line: TextLine, body_size: float) -> bool:
    """Short bold or larger-than-body lines: headings the regexes may not know."""
    text = line.text.strip()
    return (
        (line.bold or line.size > 1.1 * body_size)
        and len(text) < 80
        and not text.endswith((".", ","))
        and text[:1].isalnum()
    )


def _paragraphs(lines: list[tuple[str, bool]]) -> str:
    """Join wrapped lines; mend ligatures and hyphenation; keep headings and short lines apart.

    `lines` are (text, styled) pairs; styled lines (bold or large type) stay
    on their own line like headings the regexes recognise.
    """
    out: list[str] = []
    alone = False  # the previous line is a heading
    for raw, styled in lines:
        line = raw.translate(LIGATURES).strip()
        if not line:
            continue
        if not out:
            out.append(line)
            alone = styled or is_heading(line)
            continue
        previous = out[-1]
        heading = styled or is_heading(line)
        starts_block = REFERENCES.match(line) or REFERENCES.match(previous)
        if starts_block or heading or alone:
            out.append(line)
            alone = heading
            continue
        alone = False
        if previous.endswith(SOFT_HYPHEN) or re.search(r"[a-z]-$", previous):
            out[-1] = previous[:-1] + SOFT_HYPHEN + line
        elif re.search(r"[.:!?。]$", previous) and len(previous) < 60:
            out.append(line)
        else:
            joiner = "" if _cjk(previous[-1:]) and _cjk(line[:1]) else " "
            out[-1] = previous + joiner + line
    text = LETTER_SPACED.sub("", "\n".join(out))
    return re.sub(rf"(\S*){SOFT_HYPHEN}(\S*)", _mend, text)


def _mend(match: re.Match) -> str:
    """`recur-` + `rent` -> `recurrent`, but `English-` + `to-German` keeps its hyphen.

    A line-end hyphen before a lowercase letter is a break inside a word,
    unless the word is already a compound (has a hyphen or slash) or the next
    part is not a lowercase word (numbers, names, acronyms keep theirs).
    """
    before, after = match.group(1), match.group(2)
    word = after.rstrip(".,;:)]!?")
    compound = "-" in before or "/" in before or "-" in word
    if word[:1].islower() and word.isalpha() and not compound:
        return before + after
    return f"{before}-{after}"


def _cjk(ch: str) -> bool:
    return bool(ch) and (
        "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af"
    )


# ---- references and appendices -----------------------------------------------------


def _references_page(pages: list[str]) -> int | None:
    """The page where References starts (not on page 1 nor in a long paper's first fifth)."""
    for number, text in enumerate(pages, 1):
        if number > max(1, len(pages) // 5) and any(
            REFERENCES.match(ln) for ln in text.splitlines()
        ):
            return number
    return None


def _answerable(pdf: PdfText) -> list[tuple[int, str]]:
    """(page, text) without the References; an appendix heading after them resumes."""
    start = pdf.references_from_page
    if start is None:
        return list(enumerate(pdf.pages, 1))
    kept = []
    in_references = False
    for number, text in enumerate(pdf.pages, 1):
        lines = []
        if in_references and number > start and _opens_appendix(text):
            in_references = False
        for line in text.splitlines():
            if number == start and not in_references and REFERENCES.match(line):
                in_references = True
            elif in_references and number >= start and _is_appendix(line):
                in_references = False
            if not in_references:
                lines.append(line)
        kept.append((number, "\n".join(lines)))
    return kept


def _opens_appendix(text: str) -> bool:
    return bool(FIGURE_CAPTION.search(text)) and (
        len(REFERENCE_ENTRY.findall(text)) <= MAX_APPENDIX_ENTRIES
    )


def _is_appendix(line: str) -> bool:
    return len(line) < 90 and bool(APPENDIX.match(line)) and not line.endswith(".")


def _first_heading(text: str) -> str | None:
    return next((ln for ln in text.splitlines() if is_heading(ln)), None)


# ---- front matter -------------------------------------------------------------------


@dataclass
class FrontMatter:
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    abstract: str | None = None


def _front_matter(page: PageLines, text: str) -> FrontMatter:
    """Title (the largest type at the top of page 1), authors under it, the abstract."""
    lines = [ln for ln in page.lines if any(ch.isalpha() for ch in ln.text)]
    if not lines:
        return FrontMatter()
    body_size = _body_size(lines)
    top = [ln for ln in lines if ln.y1 >= 0.45 * page.height]
    biggest = max((ln.size for ln in top), default=0)
    title_lines: list[TextLine] = []
    if biggest >= 1.15 * body_size:
        for line in sorted(top, key=lambda ln: -ln.y1):
            if line.size >= 0.9 * biggest:
                title_lines.append(line)
            elif title_lines:
                break
    title = " ".join(ln.text.translate(LIGATURES) for ln in title_lines) or None
    authors = _authors(page, title_lines, lines) if title_lines else []
    return FrontMatter(title=title and title[:300], authors=authors, abstract=_abstract(text))


def _authors(page: PageLines, title: list[TextLine], lines: list[TextLine]) -> list[str]:
    """Name-like runs between the title and the abstract (best effort)."""
    below = min(ln.y0 for ln in title)
    names: list[str] = []
    for line in sorted(lines, key=lambda ln: (-round(ln.y1), ln.x0)):
        if line.y1 > below + 1 or line.y1 < 0.45 * page.height:
            continue
        if ABSTRACT.match(line.text) or is_heading(line.text):
            break
        for part in AUTHOR_SEPARATOR.split(line.text):
            words = re.sub(r"[\*\u2020\u2021\u00a7\u00b6\u2217#\d]+", " ", part or "").split()
            if AFFILIATION.search(part or "") or not 2 <= len(words) <= 4:
                continue
            if all(NAME_WORD.match(w) for w in words):
                names.append(" ".join(words))
    return list(dict.fromkeys(names))[:50]


def _abstract(text: str) -> str | None:
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if match := ABSTRACT.match(line):
            body = [match.group(1)] if match.group(1) else []
            for following in lines[index + 1 :]:
                if is_heading(following) or REFERENCES.match(following):
                    break
                body.append(following)
            abstract = " ".join(body).strip()
            return abstract or None
    return None


def _metadata_title(metadata: dict) -> str | None:
    title = (metadata.get("Title") or "").strip()
    if title and title.lower() not in ("untitled", "microsoft word") and len(title) >= 4:
        return title
    return None


def _first_line(text: str) -> str | None:
    for line in text.splitlines():
        if 8 <= len(line.strip()) <= 200:
            return line.strip()
    return None


def _arxiv_id(layout: list[PageLines], pages: list[str]) -> str | None:
    """From the margin stamp of the first pages, else from their text."""
    for text in [s for page in layout[:2] for s in page.stamps] + pages[:2]:
        if match := ARXIV_STAMP.search(text):
            return match.group(1)
    return None
