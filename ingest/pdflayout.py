"""PDF pages -> positioned text lines in reading order (pypdfium2 character boxes).

Why geometry and not the text stream: a PDF's content order is whatever its
producer wrote. LaTeX usually writes one column after the other, but floats,
footnotes, margin stamps and review line numbers land anywhere, and other
producers write two-column pages line by line across the gutter. With each
character's box we can cut lines at wide gaps (gutter, margin numbers), tell
left-column from right-column lines, and read every column top to bottom.

Also here, because they are geometric: the arXiv stamp (rotated text in the
left margin), running headers/footers (the same line in the top or bottom
band of most pages) and page or line numbers (lines that are only a number).
"""

from __future__ import annotations

import ctypes
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from paperlens.ingest.pdffigures import drawn_characters

# A wider gap than this (in font sizes) between two characters of a line is a
# gutter, a table-cell gap or a margin line number, not a word space. Justified
# text in narrow columns stretches spaces to about one em; gutters are ~2 em.
GAP_EMS = 1.4
# A narrower gap between two numbers still parts a narrow table's columns ("25.0  63.6":
# 1.2-1.4 em in the PDFs of ../shared/corpus/real); a thin space inside a number
# ("20 000") is ~0.2 em. Used only to cut a table row's cells
# (docs/retrieval-pages.md#narrow-tables).
CELL_GAP_EMS = 0.8
TABLE_MIN_CELLS = 3
CELL = "\t"  # joins a table row's cells; no other run of text holds one
PROSE_WORD = re.compile(r"(?<!\S)[a-z][a-z'’]*[,.;:]?(?!\S)")
MARGIN_BAND = 0.08  # top/bottom share of the page height where running heads live
EQUALS_OUTSIDE_BRACKETS = re.compile(r"=(?![^(\[]*[)\]])")
NUMBER = re.compile(r"[-+−±]?\d[\d.,]*(?: \d{3})*%?")  # "20 000": a thin space groups digits
# A results table marks a missing value with a dash: a cell like a number.
NO_VALUE = re.compile(r"[-–—−]")
NUMBER_ONLY = re.compile(r"^\s*[\(\[]?\d{1,4}[\)\]]?\s*$")
ARXIV_STAMP_LINE = re.compile(r"arXiv:\s*\d{4}\.\d{4,5}(v\d+)?\s*\[[\w.\-]+\]", re.I)


@dataclass(frozen=True)
class TextLine:
    """One run of text on one line, with its box in PDF points (origin bottom left)."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float  # font size of the run's first character
    bold: bool = False  # the first character's font weight is bold (headings)
    cells: int = 1  # > 1: a table row, its cells joined left to right by `join_table_rows`
    cell_gaps: tuple[int, ...] = ()  # offsets in `text` after a gap of CELL_GAP_EMS or more

    @property
    def vertical(self) -> bool:
        """Rotated text (e.g. the arXiv stamp) stacks characters upward."""
        return len(self.text.strip()) > 4 and (self.y1 - self.y0) > 3 * (self.x1 - self.x0)


@dataclass
class PageLines:
    number: int  # 1-based
    width: float
    height: float
    lines: list[TextLine]  # content order first, reading order after `reading_order`
    two_columns: bool = False
    stamps: list[str] = field(default_factory=list)  # margin stamps removed from the text


def read_pages(document: pdfium.PdfDocument) -> list[PageLines]:
    """Every page's text runs, cut at line breaks and at wide horizontal gaps."""
    pages = []
    for index in range(len(document)):
        page = document[index]
        width, height = page.get_size()
        textpage = page.get_textpage()
        try:
            text = _characters(textpage)
            lines = _runs(textpage, text, drawn_characters(page, textpage, text))
        finally:
            textpage.close()
            page.close()
        pages.append(PageLines(index + 1, width, height, lines))
    return pages


def _characters(textpage: pdfium.PdfTextPage) -> str:
    """The page's characters, one per pdfium index (spaces for unmapped ones).

    Per character, not get_text_range(): its UTF-16 surrogate pairs (math
    letters such as U+1D442) would shift every index after them."""
    raw = textpage.raw
    count = max(textpage.count_chars(), 0)
    return "".join(chr(pdfium_c.FPDFText_GetUnicode(raw, i) or 32) for i in range(count))


def _runs(textpage: pdfium.PdfTextPage, text: str, left_out: set[int]) -> list[TextLine]:
    """The page's runs of text (`text`: its characters), without the characters
    `left_out` (figure drawings)."""
    if not text:
        return []
    raw = textpage.raw
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    runs: list[TextLine] = []
    chars: list[str] = []
    box: list[float] = []
    cell_gaps: list[int] = []
    size = 10.0
    bold = False
    last_right = None

    def flush() -> None:
        # pdfium gives a character outside the BMP as two surrogate halves: pair them.
        run = "".join(chars).encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        gaps = tuple(cell_gaps) if len(run) == len(chars) else ()  # offsets moved otherwise
        if run.strip() and box:
            runs.append(TextLine(run.strip(), *box, size, bold, cell_gaps=gaps))
        chars.clear()
        box.clear()
        cell_gaps.clear()

    for i, ch in enumerate(text):
        if ch in "\r\n" or i in left_out:
            flush()
            last_right = None
            continue
        if ch.isspace():
            if chars:
                chars.append(" ")
            continue
        pdfium_c.FPDFText_GetCharBox(raw, i, left, right, bottom, top)
        x0, x1, y0, y1 = left.value, right.value, bottom.value, top.value
        # A jump back to the left without a line break: pdfium glued the next
        # line on (it does after a hyphen), e.g. a margin line number.
        jumped = last_right is not None and x0 < last_right - 2 * size
        if box and last_right is not None:
            gap = x0 - last_right
            if gap > GAP_EMS * size or jumped:
                flush()
            elif gap > CELL_GAP_EMS * size:
                cell_gaps.append(len(chars))
        if not box:
            size = pdfium_c.FPDFText_GetFontSize(raw, i) or 10.0
            bold = _bold(raw, i)
        if box:
            box[:] = [min(box[0], x0), min(box[1], y0), max(box[2], x1), max(box[3], y1)]
        else:
            box[:] = [x0, y0, x1, y1]
        chars.append(ch)
        last_right = x1
    flush()
    return runs


def _bold(raw, index: int) -> bool:
    """Weight from the font descriptor, else the name (standard 14 fonts have no weight)."""
    if pdfium_c.FPDFText_GetFontWeight(raw, index) >= 600:
        return True
    name = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    pdfium_c.FPDFText_GetFontInfo(raw, index, name, len(name), flags)
    return bool(re.search(rb"bold|black|heavy", name.value, re.I)) or bool(flags.value & 1 << 18)


def drop_margins(pages: list[PageLines]) -> None:
    """Remove stamps, page/line numbers and running headers/footers, in place."""
    repeated = _running_heads(pages)
    for page in pages:
        kept = []
        body = [ln for ln in page.lines if len(ln.text) >= 30 and not ln.vertical]
        left = min((ln.x0 for ln in body), default=0.1 * page.width)
        right = max((ln.x1 for ln in body), default=0.9 * page.width)
        for line in page.lines:
            # Page and line numbers sit outside the text block; an exponent that
            # pdfium put on a line of its own sits inside it and stays.
            outside = _in_band(line, page) or line.x1 <= left + 1 or line.x0 >= right - 1
            if line.vertical or ARXIV_STAMP_LINE.search(line.text) and _in_margin(line, page):
                page.stamps.append(line.text)
            elif not (
                NUMBER_ONLY.match(line.text)
                and outside
                or _in_band(line, page)
                and _shape(line.text) in repeated
            ):
                kept.append(line)
        page.lines = kept


def _running_heads(pages: list[PageLines]) -> set[str]:
    """Line shapes (digits ignored) in the top/bottom band of most pages."""
    if len(pages) < 3:
        return set()
    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({_shape(ln.text) for ln in page.lines if _in_band(ln, page)})
    # Alternating heads (title on odd pages, authors on even) reach ~half the pages.
    return {shape for shape, n in counts.items() if n >= max(3, 0.4 * len(pages))}


def _in_band(line: TextLine, page: PageLines) -> bool:
    band = MARGIN_BAND * page.height
    return line.y0 >= page.height - band or line.y1 <= band


def _in_margin(line: TextLine, page: PageLines) -> bool:
    return line.vertical or line.x1 < 0.15 * page.width or line.x0 > 0.85 * page.width


def _shape(text: str) -> str:
    return re.sub(r"\d+", "#", text.strip().lower())


def join_table_rows(page: PageLines) -> None:
    """Join the cells of each table row into one line, in place.

    pdfium cuts a row at every wide gap, so its cells are separate runs, and
    `reading_order` would send a full-width table's left cells to the left
    column and its right cells to the right one: the numbers lose their row.
    Runs that share a baseline, leaving out prose and bold words (a line of
    the other column, a heading beside a figure; bold numbers are a table's
    best results and stay), make a row when there are at least
    TABLE_MIN_CELLS of them (a run of numbers apart by a column's gap counts
    one cell each), short and mostly with digits; two such rows one
    above the other make a table, and a row of short cells right above them
    is its column names (docs/retrieval-pages.md#table-rows).
    A row's cells are joined by a tab (`CELL`), which marks the line as a row
    for `ingest/tables.py`; " | " separators read worse to the embedder.
    """
    position = {id(ln): i for i, ln in enumerate(page.lines)}
    # Left out before rows are drawn, so that a line of the other column, on a
    # baseline between two rows', cannot pull a row's cells apart.
    kept = [ln for ln in page.lines if not (_prose(ln.text) or ln.bold and _heading_like(ln.text))]
    rows = [sorted(row, key=lambda ln: ln.x0) for row in _baseline_rows(kept)]
    texts = [[cell for ln in row for cell in _cells(ln)] for row in rows]  # left to right
    short = [len(row) >= TABLE_MIN_CELLS and _cell_like(row) for row in texts]
    numeric = [ok and mostly_numbers(row) for ok, row in zip(short, texts, strict=True)]
    numeric += [False, False]
    joined: dict[int, TextLine] = {}
    dropped: set[int] = set()
    for i, row in enumerate(rows):
        body = numeric[i] and (i > 0 and numeric[i - 1] or numeric[i + 1])
        column_names = short[i] and numeric[i + 1] and numeric[i + 2]
        if not (body or column_names):
            continue
        # The row takes the place of its first cell in the producer's order.
        first = min(row, key=lambda ln: position[id(ln)])
        joined[id(first)] = TextLine(
            CELL.join(texts[i]),
            min(ln.x0 for ln in row),
            min(ln.y0 for ln in row),
            max(ln.x1 for ln in row),
            max(ln.y1 for ln in row),
            first.size,
            cells=len(texts[i]),
        )
        dropped.update(id(ln) for ln in row if ln is not first)
    page.lines = [joined.get(id(ln), ln) for ln in page.lines if id(ln) not in dropped]


def _baseline_rows(lines: list[TextLine]) -> list[list[TextLine]]:
    """Horizontal lines top to bottom: runs whose vertical middles are within 0.4 em."""
    rows: list[list[TextLine]] = []
    for line in sorted(lines, key=lambda ln: -(ln.y0 + ln.y1)):
        middle = (line.y0 + line.y1) / 2
        if rows and abs(_middle(rows[-1]) - middle) <= 0.4 * line.size:
            rows[-1].append(line)
        else:
            rows.append([line])
    return rows


def _middle(row: list[TextLine]) -> float:
    return (row[0].y0 + row[0].y1) / 2


def _cell_like(cells: list[str]) -> bool:
    """Table cells are short; single letters (a figure's labels) are not cells, a dash
    for no value is."""
    lengths = sorted(map(len, cells))
    return (
        lengths[len(lengths) // 2] <= 20
        and lengths[-1] <= 60
        and sum(len(c) >= 2 or bool(NO_VALUE.fullmatch(c)) for c in cells) * 2 >= len(cells)
        # An equation's pieces are not cells; a row's label may set a value ("(LM, n = 3)").
        and not any(EQUALS_OUTSIDE_BRACKETS.search(cell) for cell in cells)
    )


def _cells(line: TextLine) -> list[str]:
    """A run's cells: its numbers when it holds only numbers apart by a column's gap
    ("25.0  63.6": in a narrow table two columns' values can stand closer than the
    gap that cuts runs), else the run itself."""
    bounds = [0, *line.cell_gaps, len(line.text)]
    pieces = [line.text[a:b].strip() for a, b in pairwise(bounds)]
    if len(pieces) > 1 and all(_value(piece) for piece in pieces):
        return pieces
    return [line.text]


def mostly_numbers(cells: Iterable[str]) -> bool:
    """A table's body row: most cells hold a digit or a dash for no value (its
    column names do not)."""
    values = [any(c.isdigit() for c in cell) or bool(NO_VALUE.fullmatch(cell)) for cell in cells]
    return sum(values) * 2 >= len(values)


def _value(cell: str) -> bool:
    return bool(NUMBER.fullmatch(cell) or NO_VALUE.fullmatch(cell))


def _heading_like(text: str) -> bool:
    return len(re.findall(r"[^\W\d_]{2,}", text)) >= 2


def _prose(text: str) -> bool:
    """A run of text, not a cell: many lowercase words, or a long run with some."""
    words = len(PROSE_WORD.findall(text))
    return words >= 6 or words >= 3 and len(text) >= 30


def reading_order(page: PageLines) -> None:
    """Order a page's lines column by column, in place.

    Lines crossing the page middle (title, abstract of one-column front
    matter, full-width figures) cut the page into bands; inside a band the
    left column is read before the right one. Within a column the producer's
    order is kept, which is right for sub- and superscripts on one line.
    """
    middle = page.width / 2
    slack = 0.01 * page.width
    side = {id(ln): _side(ln, middle, slack) for ln in page.lines}
    chars = Counter()
    for line in page.lines:
        if line.cells == 1:  # a full-width table's rows say nothing of the columns
            chars[side[id(line)]] += len(line.text)
    # By characters, not lines: figure labels and equation numbers make many
    # short one-sided lines on one-column pages, but little text.
    total = sum(chars.values()) or 1
    page.two_columns = chars["left"] >= 0.25 * total and chars["right"] >= 0.25 * total
    if not page.two_columns:
        return
    position = {id(ln): i for i, ln in enumerate(page.lines)}
    by_height = sorted(page.lines, key=lambda ln: (-round(ln.y1), position[id(ln)]))
    ordered: list[TextLine] = []
    band: list[TextLine] = []

    def close_band() -> None:
        for column in ("left", "right"):
            ordered.extend(
                sorted((ln for ln in band if side[id(ln)] == column), key=lambda x: position[id(x)])
            )
        band.clear()

    for line in by_height:
        if side[id(line)] == "span":
            close_band()
            ordered.append(line)
        else:
            band.append(line)
    close_band()
    page.lines = ordered


def _side(line: TextLine, middle: float, slack: float) -> str:
    if line.x1 <= middle + slack:
        return "left"
    if line.x0 >= middle - slack:
        return "right"
    return "span"
