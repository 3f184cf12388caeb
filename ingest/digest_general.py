"""The general digest reading: any page that links papers -> one paper per linked paper.

Works on Markdown or plain text (HTML is converted first) in any language and
knows no digest by name. The text is cut into units (a table row, a list item
with its nested lines, a heading, a paragraph), each under the headings above
it. A unit that links a paper is an entry; its title is the nearest title
(the heading that carries the link, bold text, the link's own text, the title
cell of a row, the text before " - " or a double space) and its other text
describes it. Units that link only non-papers are reported as skipped, and
papers met twice (same arXiv id or paper URL) are merged into one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from paperlens.ingest.digest_links import Link, classify_links, find_links
from paperlens.ingest.digest_text import make_paper, split_title, strip_md, text_sections
from paperlens.ingest.documents import PaperDoc, normalize_title

UnitKind = Literal["heading", "row", "item", "para"]

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
BULLET = re.compile(r"^(\s*)(?:[*+\-•●▪◦·]|\d+[.)])\s+")
TABLE_SEPARATOR = re.compile(r"^\|?[\s:|\-]+\|?$")
NUMBER_PREFIX = re.compile(r"^\s*(?:\d+\)|\d+\.(?=\s)|[•●▪◦·*\-+](?=\s))\s*")
FILLER_CELL = re.compile(r"^[\s\d/:.\-–,✅✔☑️❌xX✓]*$")
# "Title  Description", "Title - description", "Title -description", "Title- a …";
# not "Instruction- Following" nor "Journey - Part 2" (a capital goes on a title).
TITLE_SPLIT = re.compile(r"\s{2,}|\s+[-–—]\s*(?=[^\sA-Z])|(?<=[\w)])[-–—]\s+(?=[^\sA-Z])")
# Where a description starts when nothing separates it from the title
# ("Some Title This paper presents …"), as DAIR.AI's rows sometimes do.
DESCRIPTION_OPENER = re.compile(
    r"\s(?=(?:This|These) (?:paper|work|study|survey|new|report|technical|position)\b|"
    r"(?:Introduces|Proposes|Presents|Researchers|The authors)\b)"
)
MAX_TITLE = 200
REFERENCE = re.compile(r"https?://|\barXiv\s*[:：]\s*\d{4}\.", re.IGNORECASE)
FOOTNOTE = re.compile(r"^\[\^[^\]]+\]:\s*")


@dataclass
class Unit:
    kind: UnitKind
    lines: list[str]
    headings: tuple[str, ...]
    cells: list[str] = field(default_factory=list)
    table: int = -1

    @property
    def listed_under(self) -> str | None:
        return self.headings[-1] if self.headings else None


@dataclass
class Reading:
    """Papers of one reading of a digest, with what it saw and skipped."""

    papers: list[PaperDoc] = field(default_factory=list)
    entries: int = 0
    skipped: list[str] = field(default_factory=list)
    merged: int = 0


def read_general(text: str) -> Reading:
    """One paper per linked paper in `text`; see the module docstring."""
    units = split_units(text.split("\n"))
    paper_tables = _paper_tables(units)
    builder = _Builder()
    for heading, body in _sections(units):
        _read_section(heading, body, paper_tables, builder)
    return builder.reading


# ---- units --------------------------------------------------------------------------


def split_units(lines: list[str]) -> list[Unit]:
    """Cut Markdown/plain text into headings, table rows, list items and paragraphs."""
    units: list[Unit] = []
    path: dict[int, str] = {}
    current: Unit | None = None
    indent = 0
    blank = False
    tables = 0
    index = 0
    while index < len(lines):
        raw = lines[index].rstrip()
        stripped = raw.strip()
        headings = tuple(path[level] for level in sorted(path))
        if heading := HEADING.match(stripped):
            level, title = len(heading[1]), heading[2]
            path = {k: v for k, v in path.items() if k < level}
            units.append(Unit("heading", [title], tuple(path[k] for k in sorted(path))))
            path[level] = strip_md(title).strip()
            current = None
        elif stripped.startswith("|"):
            end = index
            while end < len(lines) and lines[end].strip().startswith("|"):
                end += 1
            units += _table_units(lines[index:end], headings, tables)
            tables += 1
            index, current = end, None
            continue
        elif not stripped:
            blank = True
            if current is not None and current.kind == "para":
                current = None
        elif bullet := BULLET.match(raw):
            depth = len(bullet[1].expandtabs(4))
            if current is not None and current.kind == "item" and depth > indent:
                current.lines.append(raw)
            else:
                current, indent = Unit("item", [raw], headings), depth
                units.append(current)
        else:
            depth = len(raw) - len(raw.lstrip())
            continues_item = current is not None and current.kind == "item" and depth > indent
            if current is not None and (continues_item or (not blank and current.kind != "row")):
                current.lines.append(raw)
            else:
                current = Unit("para", [raw], headings)
                units.append(current)
        if stripped:
            blank = False
        index += 1
    return units


def _table_units(rows: list[str], headings: tuple[str, ...], table: int) -> list[Unit]:
    units = []
    has_header = len(rows) > 1 and TABLE_SEPARATOR.match(rows[1].strip())
    for number, row in enumerate(rows):
        if TABLE_SEPARATOR.match(row.strip()) or (has_header and number == 0):
            continue
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        units.append(Unit("row", [row.strip()], headings, cells=cells, table=table))
    return units


def _sections(units: list[Unit]) -> list[tuple[Unit | None, list[Unit]]]:
    sections: list[tuple[Unit | None, list[Unit]]] = [(None, [])]
    for unit in units:
        if unit.kind == "heading":
            sections.append((unit, []))
        else:
            sections[-1][1].append(unit)
    return sections


def _paper_tables(units: list[Unit]) -> set[int]:
    """Tables of papers: most rows with links link a paper (or the header says so)."""
    with_links: dict[int, int] = {}
    with_papers: dict[int, int] = {}
    for unit in units:
        if unit.kind != "row":
            continue
        links = find_links(unit.lines)
        if links:
            with_links[unit.table] = with_links.get(unit.table, 0) + 1
        if _paper_links(links):
            with_papers[unit.table] = with_papers.get(unit.table, 0) + 1
    return {t for t, n in with_links.items() if with_papers.get(t, 0) >= 0.5 * n}


# ---- entries -> papers ----------------------------------------------------------


def _paper_links(links: list[Link]) -> list[Link]:
    return [link for link in links if link.kind == "paper" or link.labelled_paper]


def _key(link: Link) -> str:
    return f"arxiv:{link.arxiv_id}" if link.arxiv_id else link.url.split("#")[0].rstrip("/")


def _read_section(
    heading: Unit | None, body: list[Unit], paper_tables: set[int], builder: _Builder
) -> None:
    heading_links = find_links(heading.lines) if heading else []
    if heading is not None and _paper_links(heading_links):
        _read_headed_paper(heading, heading_links, body, paper_tables, builder)
        return
    if heading is not None and heading_links:
        builder.skip(_plain(heading.lines[0]))
    plain = [u for u in body if not find_links(u.lines)]
    linked = [u for u in body if u not in plain]
    untitled = [u for u in linked if _paper_links(find_links(u.lines)) and not _own_title(u)]
    # A heading over one untitled paper link ("## Title", text, "https://arxiv…") is
    # that paper's title, and the section's other text describes it.
    if heading is not None and len(untitled) == 1 and len(_keys_in(linked)) == 1:
        links = [link for u in linked for link in find_links(u.lines)]
        description = [line for u in body for line in _description_lines(u, None)]
        builder.add(
            heading.lines[0], links, description, heading.headings, arxiv=_first_arxiv(links)
        )
        return
    for unit in linked:
        _read_unit(unit, unit.table in paper_tables, builder)


def _read_headed_paper(
    heading: Unit, links: list[Link], body: list[Unit], paper_tables: set[int], builder: _Builder
) -> None:
    """A heading that carries the paper link: the section below describes it."""
    keys = {_key(link) for link in _paper_links(links)}
    description: list[str] = []
    own_links = list(links)
    for unit in body:
        unit_links = find_links(unit.lines)
        papers = _paper_links(unit_links)
        if papers and not {_key(link) for link in papers} <= keys:
            _read_unit(unit, unit.table in paper_tables, builder)
            continue
        own_links += unit_links
        description += _description_lines(unit, None)
    title = _without_links(heading.lines[0])
    builder.add(title, own_links, description, heading.headings, arxiv=_first_arxiv(links))


def _read_unit(unit: Unit, paper_table: bool, builder: _Builder) -> None:
    links = find_links(unit.lines)
    papers = _paper_links(links)
    labelled = [link for link in papers if link.labelled_paper]
    titled = {_key(link): link for link in papers if not link.generic}
    if not papers and paper_table:
        papers = [link for link in links if link.kind == "content"][:1]
        labelled = papers
    if not papers:
        builder.skip(_entry_name(unit))
        return
    own = _own_title(unit)
    keys = list(dict.fromkeys(_key(link) for link in papers))
    if labelled or len(keys) == 1 or (own and len(titled) < 2):
        # One paper: the row's "Paper" link, else its only (or only titled) paper.
        main = labelled[0] if labelled else (list(titled.values()) or papers)[0]
        arxiv = main.arxiv_id or _first_arxiv(links)
        title = own or (main.text if not main.generic else "") or _fallback(unit)
        builder.add(title, [main, *links], _description_lines(unit, title), unit.headings, arxiv)
        for extra in _extra_arxiv(papers, arxiv):
            name = extra.text if not extra.generic else f"arXiv {extra.arxiv_id}"
            builder.add(name, [extra], [], unit.headings)
        return
    # Several papers in one entry ("[GPT](…), [GPT-2](…), [GPT-3](…)", a paragraph
    # citing two arXiv ids): one each, described by the lines from its link on.
    firsts = [next(lk for lk in papers if _key(lk) == key) for key in keys]
    starts = sorted({link.line for link in firsts}) + [len(unit.lines)]
    for key, first in zip(keys, firsts, strict=True):
        link = titled.get(key) or first
        title = link.text if not link.generic else _reference_name(link)
        end = next(n for n in starts if n > first.line)
        block = Unit(unit.kind, unit.lines[first.line : end], ())
        builder.add(title, [link], _description_lines(block, title), unit.headings)


def _reference_name(link: Link) -> str:
    """A stand-in title for a bare reference; the arXiv follow-up finds the real one."""
    if link.arxiv_id:
        return f"arXiv {link.arxiv_id}"
    return re.sub(r"^https?://(www\.)?", "", link.url)


def _extra_arxiv(papers: list[Link], main: str | None) -> list[Link]:
    """Other arXiv papers an entry links (a "Paper 2", a cited work) are papers too."""
    seen = {main}
    extra = []
    for link in papers:
        if link.arxiv_id and link.arxiv_id not in seen:
            seen.add(link.arxiv_id)
            extra.append(link)
    return extra


def _keys_in(units: list[Unit]) -> set[str]:
    return {_key(link) for u in units for link in _paper_links(find_links(u.lines))}


def _first_arxiv(links: list[Link]) -> str | None:
    return next((link.arxiv_id for link in links if link.arxiv_id), None)


# ---- titles and descriptions ------------------------------------------------------


def _own_title(unit: Unit) -> str:
    """The title an entry gives itself, "" when it has none (a bare link)."""
    if unit.kind == "row":
        return _row_title(unit)
    first = unit.lines[0]
    links = find_links([first])
    titled = [link for link in _paper_links(links) if not link.generic]
    if titled and first.lstrip().startswith(("[", "*", "-", "+", "•")) and len(titled) == 1:
        start = NUMBER_PREFIX.sub("", first.strip())
        if start.startswith("[") or start.startswith("**["):
            return titled[0].text
    return _line_title(first)


def _row_title(unit: Unit) -> str:
    for cell in unit.cells:
        links = find_links([cell])
        titled = [link for link in _paper_links(links) if not link.generic]
        if titled:
            return strip_md(titled[0].text).strip()
    for cell in unit.cells:
        title = _line_title(cell)
        if title:
            return title
    return ""


def _line_title(line: str) -> str:
    """Bold text at the start, else the text before a double space, " - " or ": "."""
    text = NUMBER_PREFIX.sub("", line.strip().lstrip(">").strip())
    text = NUMBER_PREFIX.sub("", text)
    if bold := re.match(r"^\*\*(.+?)\*\*", text):
        title = strip_md(bold[1])
    else:
        plain = _without_links(text, collapse=False)
        if not plain or FILLER_CELL.match(plain):
            return ""
        title = TITLE_SPLIT.split(plain, maxsplit=1)[0]
        title = DESCRIPTION_OPENER.split(title, maxsplit=1)[0]
        if len(title) > MAX_TITLE:
            title = re.split(r"\s+[-–—:]\s+", title, maxsplit=1)[0]
    title = " ".join(title.replace("*", " ").split()).strip(" -–—:：")
    if REFERENCE.search(title):
        return ""  # a sentence citing a paper, not a title
    if not title or len(title) > MAX_TITLE or title.endswith(".") or FILLER_CELL.match(title):
        return ""
    if Link(title, "", 0).generic:
        return ""
    return title


def _without_links(text: str, *, collapse: bool = True) -> str:
    """Text with bare URLs and link-only markup removed; titled links keep their text.

    `collapse=False` keeps runs of spaces: DAIR.AI's 2025 rows separate the
    title from its description by two spaces and nothing else.
    """
    text = strip_md(text)
    text = re.sub(r"\(\s*https?://[^)\s]+\s*\)", " ", text)
    text = re.sub(r"https?://[^\s)\]]+", " ", text)
    return " ".join(text.split()) if collapse else text.strip()


def _fallback(unit: Unit) -> str:
    for line in unit.cells or unit.lines:
        text = _without_links(line)
        if text:
            return text[:MAX_TITLE]
    return unit.listed_under or "untitled"


def _description_lines(unit: Unit, title: str | None) -> list[str]:
    """An entry's text minus its title, link labels and filler cells."""
    if unit.kind == "row":
        cells = [c for c in unit.cells if not FILLER_CELL.match(_without_links(c))]
        raw = [strip_md(c) for c in cells]
    else:
        raw = [strip_md(line) for line in unit.lines]
    lines: list[str] = []
    for block in raw:
        for line in block.split("\n"):
            quoted = line.strip().startswith(">")
            line = NUMBER_PREFIX.sub("", line.strip().lstrip(">").strip())
            line = FOOTNOTE.sub("", line)
            line = re.sub(r"\(\s*https?://\S+?\s*\)|https?://\S+", " ", line)
            line = " ".join(line.split())
            if title and line.startswith(title):
                line = line[len(title) :].strip(" -–—:：")
            if not line or Link(line, "", 0).generic or re.fullmatch(r"[\W\d_]*", line):
                continue
            lines.append(("> " if quoted else "") + line)
    return lines


def _entry_name(unit: Unit) -> str:
    name = _own_title(unit) or _fallback(unit)
    return name[:80]


def _plain(text: str) -> str:
    return _without_links(text)[:80] or text[:80]


# ---- collecting papers -------------------------------------------------------------


class _Builder:
    """Collects papers, merging one paper met twice (same arXiv id or paper URL)."""

    def __init__(self) -> None:
        self.reading = Reading()
        self.by_key: dict[str, PaperDoc] = {}

    def skip(self, name: str) -> None:
        self.reading.entries += 1
        self.reading.skipped.append(name)

    def add(
        self,
        title: str,
        links: list[Link],
        description: list[str],
        headings: tuple[str, ...],
        arxiv: str | None = None,
    ) -> None:
        self.reading.entries += 1
        title = " ".join(title.split()) or "untitled"
        local, english = split_title(title) if " / " in title else (title, None)
        sections = text_sections(description, heading="digest")
        classified = classify_links(links)
        listed = headings[-1] if headings else None
        paper = make_paper(
            local, english, classified, sections, arxiv_id=arxiv, listed_under=listed
        )
        key = (
            f"arxiv:{paper.arxiv_id}"
            if paper.arxiv_id
            else classified.get("paper") or f"title:{normalize_title(paper.title)}"
        )
        if key in self.by_key:
            self.reading.merged += 1
            merge_papers(self.by_key[key], paper)
            return
        self.by_key[key] = paper
        self.reading.papers.append(paper)


def merge_papers(into: PaperDoc, other: PaperDoc) -> None:
    """Fold a second description of one paper into the first."""
    for lang, title in other.titles.items():
        into.titles.setdefault(lang, title)
    for kind, url in other.links.items():
        into.links.setdefault(kind, url)
    known = {s.text for s in into.sections}
    into.sections += [s for s in other.sections if s.text not in known]
    if into.title.startswith("arXiv ") and not other.title.startswith("arXiv "):
        into.title = other.title
