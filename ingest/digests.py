"""Paper digests (text, Markdown, HTML; any language) -> one PaperDoc per paper.

Two kinds of reading, the best one kept, then checked against the text:
- Shape readings for digests whose structure says more than their links:
  reading lists with `*auteur:` / `*original:` lines (the French lists), and
  labelled digests (the Korean, Japanese, Hindi translations: a title line
  "번역 제목 / English Title" followed by section labels such as "논문 소개",
  "論文要旨", "पेपर लिंक", each in its own language).
- The general reading (ingest/digest_general.py): any page that links papers
  under headings, in lists, in tables or in prose yields one paper per
  linked paper. DAIR.AI's weekly tables, arXiv bot digests, reading lists
  and indexes in any language go this way.
Whatever reading wins, every arXiv paper the text links that it missed is
added from the general reading, and the result says how many entries it saw
and which it skipped, so no paper is lost silently.
Each text block becomes a Section with its own detected language, so the
Korean paragraph and the English original under it are two passages.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from paperlens.ingest.digest_general import Reading, merge_papers, read_general
from paperlens.ingest.digest_links import BARE_URL, MD_LINK, Link, find_links
from paperlens.ingest.digest_text import is_prose, links_dict, make_paper, split_title
from paperlens.ingest.documents import PaperDoc, Section
from paperlens.ingest.htmltext import html_to_text, looks_like_html
from paperlens.ingest.langid import detect_language

LABELS: dict[str, tuple[str, ...]] = {
    "intro": (
        "논문 소개",
        "論文紹介",
        "论文介绍",
        "论文简介",
        "पेपर परिचय",
        "शोध परिचय",
        "paper introduction",
        "paper summary",
        "summary",
    ),
    "abstract": (
        "논문 초록",
        "論文要旨",
        "論文概要",
        "论文摘要",
        "摘要",
        "पेपर सारांश",
        "पेपर सार",
        "abstract",
        "résumé",
    ),
    "links": (
        "논문 링크",
        "論文リンク",
        "论文链接",
        "पेपर लिंक",
        "शोध और पेपर लिंक",
        "paper link",
        "paper links",
        "links",
        "lien",
        "liens",
    ),
    "more": (
        "더 읽어보기",
        "さらに読む",
        "延伸阅读",
        "आगे पढ़ें",
        "और पढ़ें",
        "read more",
        "further reading",
        "pour aller plus loin",
    ),
}
LABEL_OF = {
    unicodedata.normalize("NFKC", word).casefold(): kind
    for kind, words in LABELS.items()
    for word in words
}
URL = BARE_URL
BULLET = re.compile(r"^(?:[•●▪◦·\-+]\s+|\*\s+(?!\*)|\d+[.)]\s+)")
READING_LIST_KEY = re.compile(
    r"^\*\s*(auteur|author|auteurs|authors|original|source|lien|link)\s*[:：]\s*(.*)$", re.I
)


@dataclass(frozen=True)
class Line:
    text: str  # cleaned: no bullets, quote markers, emphasis or heading marks
    quoted: bool  # was a "> " quote (digests quote the English original)
    heading: int  # Markdown heading level, 0 if none


@dataclass
class DigestResult:
    """The papers of a digest and what the parser saw on the way (for the report)."""

    papers: list[PaperDoc]
    reading: str  # which reading won: "general", "labelled" or "reading list"
    entries: int  # entries seen: rows, items, headed blocks that carry links
    skipped: list[str] = field(default_factory=list)  # names of entries without a paper
    merged: int = 0  # entries folded into a paper met earlier (same arXiv id or URL)
    linked_arxiv: int = 0  # distinct arXiv ids the text links
    missing_arxiv: list[str] = field(default_factory=list)  # linked but not extracted

    def warnings(self) -> list[str]:
        """Human lines for the ingest report: what was skipped or lost, by name."""
        out = []
        if self.skipped:
            out.append(
                f"{len(self.skipped)} of {self.entries} entries link no paper and were "
                f"skipped: {name_some(self.skipped)}"
            )
        if self.missing_arxiv:
            out.append(
                f"{len(self.missing_arxiv)} linked arXiv papers were not extracted: "
                f"{name_some(self.missing_arxiv)}"
            )
        return out


def name_some(names: list[str], first: int = 3) -> str:
    """'a', 'b', 'c' and 12 more."""
    shown = ", ".join(f"'{n}'" for n in names[:first])
    return shown + (f" and {len(names) - first} more" if len(names) > first else "")


def parse_digest(text: str, *, content_type: str | None = None, uri: str = "") -> list[PaperDoc]:
    """All papers a digest describes; [] when it describes none (the caller reports it)."""
    return read_digest(text, content_type=content_type).papers


def read_digest(text: str, *, content_type: str | None = None) -> DigestResult:
    """Papers plus the entries seen and skipped; see the module docstring."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return DigestResult([], "general", 0)
    if content_type == "text/html" or (content_type is None and looks_like_html(text)):
        text = html_to_text(text)
    raw = text.split("\n")
    general = read_general(text)
    lines = [_clean(line) for line in raw]
    shapes = {"reading list": _parse_reading_list(raw), "labelled": _parse_labelled(lines)}
    name, shape = max(shapes.items(), key=lambda item: _plausibility(item[1]))
    # A shape reading knows more than links (labels, author lines) and wins
    # when it explains the text at least as well as the general reading.
    if shape and _plausibility(shape) >= _plausibility(general.papers):
        reading = _with_missed_arxiv(Reading(papers=shape, entries=len(shape)), general)
    else:
        name, reading = "general", general
    papers, merged = _one_per_arxiv(reading.papers)
    linked = list(dict.fromkeys(a for link in find_links(raw) if (a := link.arxiv_id)))
    found = {p.arxiv_id for p in papers}
    return DigestResult(
        papers=papers,
        reading=name,
        entries=reading.entries,
        skipped=reading.skipped,
        merged=reading.merged + merged,
        linked_arxiv=len(linked),
        missing_arxiv=[a for a in linked if a not in found],
    )


def _with_missed_arxiv(shape: Reading, general: Reading) -> Reading:
    """A shape reading plus the arXiv papers only the general reading found."""
    known = {p.arxiv_id for p in shape.papers if p.arxiv_id}
    extra = [p for p in general.papers if p.arxiv_id and p.arxiv_id not in known]
    return Reading(shape.papers + extra, shape.entries + len(extra), shape.skipped, shape.merged)


def _one_per_arxiv(papers: list[PaperDoc]) -> tuple[list[PaperDoc], int]:
    kept: dict[str, PaperDoc] = {}
    out = []
    for paper in papers:
        if paper.arxiv_id and paper.arxiv_id in kept:
            merge_papers(kept[paper.arxiv_id], paper)
            continue
        if paper.arxiv_id:
            kept[paper.arxiv_id] = paper
        out.append(paper)
    return out, len(papers) - len(out)


def _plausibility(papers: list[PaperDoc]) -> int:
    return sum(1 + bool(p.arxiv_id) + bool(p.sections) - 2 * is_prose(p.title) for p in papers)


# ---- shape: reading lists (*auteur: / *original:) -----------------------------


def _parse_reading_list(raw: list[str]) -> list[PaperDoc]:
    stripped = [line.strip() for line in raw]
    keys = [(i, m) for i, line in enumerate(stripped) if (m := READING_LIST_KEY.match(line))]
    firsts = _first_keys(keys)
    if not firsts:
        return []
    starts = [_title_start(stripped, i) for i in firsts]
    papers = []
    for n, (start, first) in enumerate(zip(starts, firsts, strict=True)):
        end = starts[n + 1] if n + 1 < len(starts) else len(stripped)
        titles = [line for line in stripped[start:first] if line]
        papers.append(_reading_list_paper(titles, stripped[first:end]))
    return papers


def _first_keys(keys: list[tuple[int, re.Match]]) -> list[int]:
    """Index of the first key line of each entry (an entry's keys are adjacent)."""
    firsts, last = [], -10
    for index, _ in keys:
        if index - last > 3:
            firsts.append(index)
        last = index
    return firsts


def _title_start(lines: list[str], first_key: int) -> int:
    """An entry's title is the one or two non-empty lines right above its keys."""
    found = []
    index = first_key - 1
    while index >= 0 and len(found) < 2:
        line = lines[index]
        if line:
            if READING_LIST_KEY.match(line) or is_prose(line):
                break
            found.append(index)
        elif found and index > 0 and not lines[index - 1]:
            break  # two blank lines: a section break above the title
        index -= 1
    if len(found) == 2 and not _looks_like_title_pair(lines[found[1]], lines[found[0]]):
        found = found[:1]
    return found[-1] if found else first_key


def _looks_like_title_pair(upper: str, lower: str) -> bool:
    """A section header above a single title line is short and shares no words with it."""
    words = lambda s: set(re.findall(r"\w{4,}", s.casefold()))  # noqa: E731
    return bool(words(upper) & words(lower)) or ":" in upper or len(upper) > 45


def _reading_list_paper(titles: list[str], body: list[str]) -> PaperDoc:
    title, english = (titles[0] if titles else "untitled"), None
    for candidate in titles[1:]:
        if detect_language(candidate) == "en":
            english = candidate
    authors, links, prose = [], {}, []
    pending_author = False
    for line in body:
        if not line:
            continue
        match = READING_LIST_KEY.match(line)
        if match:
            key, value = match[1].lower(), match[2].strip()
            if key.startswith(("auteur", "author")):
                authors += [value] if value else []
                pending_author = not value
            else:
                links.update(links_dict(URL.findall(value)))
            continue
        if pending_author and not is_prose(line):
            authors.append(line)
            pending_author = False
        elif is_prose(line):
            prose.append(line)
    lang = detect_language(" ".join(prose) or title) or "fr"
    sections = [
        Section("digest", " / ".join(titles), detect_language(title) or lang, heading="title")
    ]
    sections += [Section("digest", p, detect_language(p) or lang) for p in prose]
    paper = make_paper(title, english, links, sections)
    paper.authors = authors
    return paper


# ---- shape: labelled digests -------------------------------------------------


def _parse_labelled(lines: list[Line]) -> list[PaperDoc]:
    starts = _paper_starts(lines)
    papers = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        papers.append(_block_paper(lines[start].text, lines[start + 1 : end]))
    return papers


RANK = {"intro": 0, "abstract": 1, "links": 2, "more": 3}


def _paper_starts(lines: list[Line]) -> list[int]:
    """Title line of each paper: labels run intro -> abstract -> links -> more, so a
    label that does not move forward in that order opens the next paper."""
    starts: list[int] = []
    current = None
    for index, line in enumerate(lines):
        label = _label(line.text)
        if label is None:
            continue
        if current is None or RANK[label] <= current:
            title = _title_above(lines, index)
            if title is None:
                continue
            starts.append(title)
        current = RANK[label]
    return starts


def _title_above(lines: list[Line], index: int) -> int | None:
    """The nearest non-empty line above a label, if it can be a title."""
    for above in range(index - 1, max(index - 6, -1), -1):
        line = lines[above]
        if not line.text:
            continue
        if _label(line.text) or line.quoted or URL.fullmatch(line.text) or is_prose(line.text):
            return None
        return above
    return None


def _block_paper(title_line: str, body: list[Line]) -> PaperDoc:
    local, english = split_title(title_line)
    links: dict[str, str] = {}
    sections: list[Section] = []
    label = "intro"
    for line in body:
        if not line.text:
            continue
        kind = _label(line.text)
        if kind:
            label = kind
            continue
        urls = URL.findall(line.text)
        rest = URL.sub("", line.text).strip(" ·|,")
        if urls and (len(rest) < 3 or Link(rest, "", 0).generic):  # "arXiv https://…"
            links.update({k: v for k, v in links_dict(urls).items() if k not in links})
            continue
        if label in ("intro", "abstract"):
            _add_text(sections, line, label)
    return make_paper(local, english, links, sections)


# ---- shared helpers ----------------------------------------------------------------


def _clean(raw: str) -> Line:
    text = raw.strip()
    heading = 0
    if match := re.match(r"^(#{1,6})\s+", text):
        heading, text = len(match[1]), text[match.end() :]
    quoted = False
    while text.startswith(">"):
        quoted, text = True, text[1:].lstrip()
    while match := BULLET.match(text):
        text = text[match.end() :]
    return Line(_strip_md(text).strip(), quoted, heading)


def _strip_md(text: str) -> str:
    """Emphasis off, links as "text url": the labelled reading finds URLs in lines."""
    text = MD_LINK.sub(lambda m: f"{m[1]} {m[2]}", text)
    return re.sub(r"(\*\*|__|`)", "", text)


def _label(text: str) -> str | None:
    """Which section label a line is, if it is one ("논문 초록 (Abstract)" -> abstract)."""
    if not text or len(text) > 40:
        return None
    key = re.sub(r"[(（\[].*?[)）\]]", "", unicodedata.normalize("NFKC", text))
    key = " ".join(key.strip(" :：-*#").split()).casefold()
    return LABEL_OF.get(key)


def _add_text(sections: list[Section], line: Line, label: str) -> None:
    """Merge consecutive lines of one language under one label into one Section."""
    lang = detect_language(line.text)
    last = sections[-1] if sections else None
    if last and last.heading == label and last.lang == lang and not line.quoted:
        sections[-1] = Section("digest", f"{last.text}\n{line.text}", lang, heading=label)
    else:
        sections.append(Section("digest", line.text, lang, heading=label))
