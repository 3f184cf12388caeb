"""A cited passage shown in its context, so a reader can check it.

For a PDF passage: the page rendered from the user's own copy of the PDF
(pypdfium2), the passage's lines highlighted, and a link that opens the PDF
at that page. For a digest or abstract passage: the whole digest entry it was
cut from, with the source's link. The CLI and the app both call
`passage_context`; neither touches pypdfium2 itself.

Why search the page instead of storing boxes at ingest: passages are cleaned
text (headers dropped, hyphenation repaired), so boxes would need a second
extraction at ingest anyway; matching the cleaned text back onto the page's
characters at view time costs a few milliseconds for one page.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from paperlens.index.hits import Passage
from paperlens.index.library import Library
from paperlens.index.search import passage_url
from paperlens.ingest.arxiv import parse_arxiv_ref
from paperlens.ingest.errors import PaperlensError

MAX_WIDTH = 1000  # px: a page image is never wider or taller than this box
MAX_HEIGHT = 1400
HIGHLIGHT = (255, 210, 0, 90)  # translucent yellow
SEGMENT = 24  # characters matched at a time when the whole passage is not found at once


@dataclass(frozen=True)
class Evidence:
    """One passage and what is needed to show it in context."""

    passage_id: int
    paper_id: str
    title: str
    kind: str  # digest | abstract | pdf
    lang: str | None
    page: int | None
    text: str  # the passage itself
    source: str  # the source's uri (a URL or a local path)
    url: str | None  # where a reader can open it: the PDF at #page=N, or the source
    context: str | None = None  # the digest entry around a digest passage
    image: bytes | None = None  # PNG of the PDF page, passage highlighted
    highlighted: bool = False  # whether the passage was found on the page
    notes: list[str] = field(default_factory=list)  # why no page image, etc.

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "image"} | {
            "has_image": self.image is not None
        }


def passage_context(library: Library, passage_id: int) -> Evidence:
    """The passage `passage_id` with its page image (PDF) or digest entry (digest)."""
    store = library.store
    passage = store.passages([passage_id]).get(int(passage_id))
    if passage is None:
        raise PaperlensError(f"no passage {passage_id} in the library")
    paper = store.paper(passage.paper_id)
    source = store.source_uris([passage.source_id]).get(passage.source_id, "")
    title = paper.title if paper else passage.paper_id
    base = dict(
        passage_id=passage.id,
        paper_id=passage.paper_id,
        title=title,
        kind=passage.kind,
        lang=passage.lang,
        page=passage.page,
        text=passage.text,
        source=source,
    )
    if passage.kind != "pdf":
        url = source if _is_http(source) else (paper.url if paper else None)
        return Evidence(**base, url=url, context=_entry_text(library, passage))
    pdf = pdf_file(library, source, paper.arxiv_id if paper else None)
    remote = passage_url(paper, passage) if paper else None
    if pdf is None:
        note = "the PDF is not on this machine; open it from its link"
        return Evidence(**base, url=remote, notes=[note])
    image, found = render_page(pdf, passage.page or 1, passage.text)
    notes = [] if found else ["the passage's text could not be located on the page"]
    url = remote if remote and _is_http(remote) else f"{pdf.as_uri()}#page={passage.page or 1}"
    return Evidence(**base, url=url, image=image, highlighted=found, notes=notes)


def pdf_file(library: Library, source: str, arxiv_id: str | None) -> Path | None:
    """The user's own copy of a passage's PDF: the ingested file, or arXiv's cached one."""
    if source and not _is_http(source):
        path = Path(source)
        return path if path.suffix.lower() == ".pdf" and path.is_file() else None
    ref = parse_arxiv_ref(source.rsplit("/abs/", 1)[-1]) if "/abs/" in source else None
    arxiv_id, version = ref if ref else (arxiv_id, None)
    if not arxiv_id:
        return None
    folder = library.settings.cache_dir / "pdf"
    stem = arxiv_id.replace("/", "_")
    exact = folder / f"{stem}{version or ''}.pdf"
    if exact.is_file():
        return exact
    versions = sorted(folder.glob(f"{stem}*.pdf")) if folder.is_dir() else []
    return versions[-1] if versions else None


def render_page(pdf: Path, page_number: int, passage: str) -> tuple[bytes, bool]:
    """PNG of one page (capped at MAX_WIDTH x MAX_HEIGHT) with `passage` highlighted."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    try:
        document = pdfium.PdfDocument(str(pdf))
    except pdfium.PdfiumError as exc:
        raise PaperlensError(f"{pdf.name}: cannot open the PDF ({exc})") from exc
    try:
        if not 1 <= page_number <= len(document):
            raise PaperlensError(f"{pdf.name} has no page {page_number}")
        page = document[page_number - 1]
        width, height = page.get_size()
        scale = min(MAX_WIDTH / width, MAX_HEIGHT / height, 2.0)
        image = page.render(scale=scale).to_pil().convert("RGBA")
        boxes = passage_boxes(page.get_textpage(), passage)
        overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        for left, bottom, right, top in boxes:
            draw.rectangle(
                [
                    left * scale - 2,
                    (height - top) * scale - 2,
                    right * scale + 2,
                    (height - bottom) * scale + 2,
                ],
                fill=HIGHLIGHT,
            )
        out = io.BytesIO()
        Image.alpha_composite(image, overlay).convert("RGB").save(out, "PNG", optimize=True)
        return out.getvalue(), bool(boxes)
    finally:
        document.close()


def passage_boxes(textpage, passage: str) -> list[tuple[float, float, float, float]]:
    """Rectangles (PDF units) of the page's characters that spell out `passage`.

    Both texts are compared on letters and digits only, case-folded: the
    stored passage lost the page's line breaks, hyphenation and spacing.
    """
    count = textpage.count_chars()
    page_text = textpage.get_text_range(0, count)
    if len(page_text) != count:  # surrogate pairs: fall back to one call per char
        page_text = "".join(textpage.get_text_range(i, 1)[:1] or " " for i in range(count))
    keep = [i for i, ch in enumerate(page_text) if ch.isalnum()]
    haystack = "".join(page_text[i] for i in keep).casefold()
    needle = re.sub(r"\W|_", "", passage).casefold()
    if not needle or not haystack:
        return []
    spans = _match(haystack, needle)
    boxes = []
    for start, end in spans:
        first, last = keep[start], keep[end - 1]
        n_rects = textpage.count_rects(first, last - first + 1)
        boxes += [textpage.get_rect(i) for i in range(n_rects)]
    return boxes


def _match(haystack: str, needle: str) -> list[tuple[int, int]]:
    """Spans of `haystack` covering `needle`: whole if possible, else piece by piece."""
    at = haystack.find(needle)
    if at >= 0:
        return [(at, at + len(needle))]
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece_start in range(0, len(needle), SEGMENT):
        piece = needle[piece_start : piece_start + SEGMENT]
        if len(piece) < 6:
            break
        at = haystack.find(piece, cursor)
        if at < 0:
            continue
        if spans and at == spans[-1][1]:
            spans[-1] = (spans[-1][0], at + len(piece))
        else:
            spans.append((at, at + len(piece)))
        cursor = at + len(piece)
    return spans


def _entry_text(library: Library, passage: Passage) -> str:
    """The digest entry a passage was cut from: the paper's passages from that source."""
    pieces = [
        p
        for p in library.store.paper_passages(passage.paper_id)
        if p.source_id == passage.source_id and p.kind == passage.kind and p.lang == passage.lang
    ]
    text, previous = "", None
    for piece in sorted(pieces, key=lambda p: p.id):  # stored in reading order
        if previous and previous.start < piece.start < previous.end:  # chunks overlap
            text += piece.text[previous.end - piece.start :]
        else:  # the next chunk, or a new section
            text += ("\n\n" if text else "") + piece.text
        previous = piece
    return text or passage.text


def _is_http(uri: str | None) -> bool:
    return bool(uri) and uri.startswith(("http://", "https://"))
