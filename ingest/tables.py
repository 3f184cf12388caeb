"""What a piece of a PDF table needs to be read: its caption and column names.

A table's rows come out of `ingest/pdflayout.py` as lines of tab-joined
cells. A page is cut into passages of a few hundred characters, so most of
a long table's passages are rows of bare numbers: "RWKV-4 14.2 3.86 70.83"
says nothing of perplexity or LAMBADA unless the caption and the column
names travel with it. `table_context` finds them for a passage, and the
ingest adds them to the passage's header, on a line after the paper's titles,
where they are embedded but not shown as the passage's text
(docs/retrieval-pages.md#table-rows); the generator is shown them above the
passage (docs/answers.md#pdf-answers).
"""

from __future__ import annotations

import re

from paperlens.ingest.pdflayout import CELL, mostly_numbers

LETTER = re.compile(r"[^\W\d_]")
CAPTION = re.compile(r"^(?:Table|Tab\.)\s*[A-Z]?\d+\s*[:.]", re.I)
MAX_CAPTION_CHARS = 160
MAX_COLUMNS_CHARS = 160
COLUMN_LINES = 5  # header lines above a table's first row
GAP_LINES = 2  # short lines inside a table that are not rows ("(A)", a group name)


def with_table_context(header: str, context: str | None) -> str:
    """A passage's header with its table's context on a line of its own."""
    return f"{header}\n{context}" if context else header


def table_context_of(header: str) -> str:
    """The table context a passage's header carries ("" for none; libraries ingested
    before 2026-12-06 joined it to the titles with " / ", and it is not found)."""
    return header.partition("\n")[2]


def is_row(line: str) -> bool:
    return line.count(CELL) >= 2


def holds_rows(text: str) -> bool:
    """Does a passage hold two or more rows of a table?"""
    return sum(map(is_row, text.splitlines())) >= 2


def row_names(text: str) -> str:
    """`text` with each table row cut to its cells that hold a letter (its name, a
    column's name, a size such as "100K" or "540B"): what the rows are about,
    without the bare numbers an embedder reads as noise
    (docs/retrieval-pages.md#row-names)."""
    lines = []
    for line in text.splitlines():
        if is_row(line):
            line = " ".join(cell for cell in line.split(CELL) if LETTER.search(cell))
        if line.strip():
            lines.append(line)
    return "\n".join(lines)


def table_context(page: str, start: int, end: int) -> str | None:
    """The caption and column names of the table whose rows page[start:end] holds,
    as far as that piece does not hold them itself; None outside tables."""
    lines, offsets = _lines(page)
    inside = [i for i, at in enumerate(offsets) if start <= at < end]
    first_row = next((i for i in inside if is_row(lines[i])), None)
    if first_row is None:
        return None
    top, bottom = _table_span(lines, first_row)
    parts = []
    caption = _caption(lines, top, bottom)
    if caption is not None and not start <= offsets[caption] < end:
        parts.append(_clip(lines[caption], MAX_CAPTION_CHARS))
    columns = _columns(lines, top, caption)
    if not mostly_numbers(lines[top].split(CELL)):  # the first row names the columns
        columns.append(top)
    if columns and not any(start <= offsets[i] < end for i in columns):
        parts.append(_clip(" ".join(lines[i] for i in columns), MAX_COLUMNS_CHARS))
    return " / ".join(parts) or None


def _columns(lines: list[str], top: int, caption: int | None) -> list[int]:
    """The short lines right above the first row: the column names, often on several
    lines (a name over its unit), up to a caption, a row or a line of text."""
    found: list[int] = []
    i = top - 1
    while i >= 0 and len(found) < COLUMN_LINES and i != caption:
        line = lines[i]
        if is_row(line) or CAPTION.match(line) or len(line) > 80 or line.endswith("."):
            break
        found.insert(0, i)
        i -= 1
    return found


def _lines(page: str) -> tuple[list[str], list[int]]:
    lines, offsets, at = [], [], 0
    for line in page.splitlines(keepends=True):
        lines.append(line.strip())
        offsets.append(at)
        at += len(line)
    return lines, offsets


def _table_span(lines: list[str], row: int) -> tuple[int, int]:
    """First and last row of the table around `row`, across short non-row gaps."""
    top = row
    while (previous := _next_row(lines, top, -1)) is not None:
        top = previous
    bottom = row
    while (following := _next_row(lines, bottom, 1)) is not None:
        bottom = following
    return top, bottom


def _next_row(lines: list[str], at: int, step: int) -> int | None:
    for gap in range(1, GAP_LINES + 2):
        i = at + step * gap
        if not 0 <= i < len(lines):
            return None
        if is_row(lines[i]):
            return i
        if len(lines[i]) > 40 or CAPTION.match(lines[i]):
            return None
    return None


def _caption(lines: list[str], top: int, bottom: int) -> int | None:
    """The caption just below the table, else just above it (styles differ)."""
    below = range(bottom + 1, min(bottom + 3, len(lines)))
    above = range(top - 1, max(top - 3, -1), -1)
    for i in (*below, *above):
        if CAPTION.match(lines[i]):
            return i
    return None


def _clip(text: str, limit: int) -> str:
    text = text.replace(CELL, " ")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
