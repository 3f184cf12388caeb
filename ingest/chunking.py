"""Sections -> passage-sized chunks, with LangChain's recursive splitter.

Chunks stay well inside the embedding model's 512-token window and never
cross a section (so never a PDF page) boundary; each keeps its offsets in the
section text so a citation can point back to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from langchain_text_splitters import RecursiveCharacterTextSplitter

# Sentence ends in the scripts digests use: Latin, CJK full stops, Devanagari danda.
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


def split_text(text: str, *, chunk_chars: int, overlap: int) -> list[Chunk]:
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
    return chunks
