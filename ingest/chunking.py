"""Sections -> passage-sized chunks, with LangChain's recursive splitter.

Chunks stay well inside the embedding model's 512-token window and never
cross a section (so never a PDF page) boundary; each keeps its offsets in the
section text so a citation can point back to it. PDF pages are cut finer than
digest entries: a page holds several facts, a digest entry describes one paper
(docs/retrieval-pages.md#passage-size). A piece too short to stand on
its own (a heading, the end of a column) joins its neighbour, so it is read with
the text it heads or ends (docs/retrieval-pages.md#fragments); in PDFs the bar is
higher (`pdf_min_chunk_chars`, docs/retrieval-pages.md#short-tails), and a
heading line always starts a passage, so a column's tail before it stays with
the text it ends (docs/retrieval-pages.md#heading-cuts).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from langchain_text_splitters import RecursiveCharacterTextSplitter

from paperlens.ingest.config import Settings
from paperlens.ingest.documents import Section
from paperlens.ingest.headings import is_heading

# Sentence ends in the scripts digests use: Latin, CJK full stops, Devanagari danda.
# Shorter than this, a chunk is a heading or a column's tail rather than a passage.
MIN_CHUNK_CHARS = 120
SEPARATORS = ["\n\n", "\n", "。", "．", "।", ". ", "! ", "? ", "; ", "、", "，", ", ", " ", ""]


@dataclass(frozen=True)
class Chunk:
    text: str
    start: int
    end: int


@lru_cache(maxsize=8)
def _splitter(chunk_chars: int, overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_chars,
        chunk_overlap=overlap,
        separators=SEPARATORS,
        keep_separator="end",
        add_start_index=True,
        strip_whitespace=True,
    )


def split_section(section: Section, settings: Settings) -> list[Chunk]:
    """A section's passages, sized for its kind (PDF page, digest entry, abstract)."""
    if section.kind == "pdf":
        return split_at_headings(
            section.text,
            chunk_chars=settings.pdf_chunk_chars,
            overlap=settings.pdf_chunk_overlap,
            min_chars=settings.pdf_min_chunk_chars,
        )
    return split_text(
        section.text, chunk_chars=settings.chunk_chars, overlap=settings.chunk_overlap
    )


def split_text(
    text: str, *, chunk_chars: int, overlap: int, min_chars: int = MIN_CHUNK_CHARS
) -> list[Chunk]:
    """Split one section's text; short texts come back whole."""
    text = text.strip()
    if not text:
        return []
    if len(text) <= chunk_chars:
        return [Chunk(text, 0, len(text))]
    docs = _splitter(chunk_chars, overlap).create_documents([text])
    chunks = []
    for doc in docs:
        start = int(doc.metadata.get("start_index", -1))
        if start < 0:
            start = max(text.find(doc.page_content), 0)
        chunks.append(Chunk(doc.page_content, start, start + len(doc.page_content)))
    return _join_fragments(text, chunks, min_chars)


def split_at_headings(text: str, *, chunk_chars: int, overlap: int, min_chars: int) -> list[Chunk]:
    """A PDF page's passages, each heading line starting a new one: the text before
    a heading (a column's tail) stays with what it ends, not with the next section.
    A block too short to stand alone (a heading over a heading) joins the next one."""
    starts, offset = [0], 0
    for line in text.splitlines(keepends=True):
        if offset and is_heading(line.strip()):
            starts.append(offset)
        offset += len(line)
    blocks = [_stripped(text, a, b) for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    chunks: list[Chunk] = []
    for block in _join_fragments(text, blocks, min_chars):
        for c in split_text(
            block.text, chunk_chars=chunk_chars, overlap=overlap, min_chars=min_chars
        ):
            chunks.append(Chunk(c.text, block.start + c.start, block.start + c.end))
    return chunks


def _stripped(text: str, start: int, end: int) -> Chunk:
    """text[start:end] without the white space around it, offsets kept."""
    part = text[start:end]
    lead = len(part) - len(part.lstrip())
    return _span(text, start + lead, max(start + lead, start + len(part.rstrip())))


def _join_fragments(text: str, chunks: list[Chunk], min_chars: int) -> list[Chunk]:
    """Merge each chunk shorter than `min_chars` into the next one (a heading
    into the text it heads), or the last one into the one before it."""
    joined: list[Chunk] = []
    pending: Chunk | None = None
    for chunk in chunks:
        if pending is not None:
            chunk = _span(text, pending.start, chunk.end)
            pending = None
        if len(chunk.text) < min_chars:
            pending = chunk
        else:
            joined.append(chunk)
    if pending is not None:
        if joined:
            joined[-1] = _span(text, joined[-1].start, pending.end)
        else:
            joined.append(pending)
    return joined


def _span(text: str, start: int, end: int) -> Chunk:
    return Chunk(text[start:end], start, end)
