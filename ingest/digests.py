"""Paper digests (text, Markdown, HTML; any language) -> one PaperDoc per paper.

Digests come in a few shapes, tried in this order:
1. DAIR.AI's "ML Papers of the Week" README: Markdown table rows
   `| 1) **Title** - summary | [Paper](https://arxiv.org/abs/…) |`.
2. Reading lists with `*auteur:` / `*original:` lines (the French lists).
3. Labelled digests (the Korean, Japanese, Hindi translations): a title line
   ("번역 제목 / English Title") followed by section labels such as
   "논문 소개", "論文要旨", "पेपर लिंक", each in its own language.
4. Heading-structured pages: one paper per heading (HTML `<h3>`, Markdown
   `###`) that carries a paper link or a bilingual " / " title.
Each text block becomes a Section with its own detected language, so the
Korean paragraph and the English original under it are two passages.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from ingest.htmltext import html_to_text, looks_like_html
from ingest.langid import detect_language
from ingest.models import PaperDoc, Section, find_arxiv_id

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
URL = re.compile(r"https?://[^\s<>()\[\]\"'，。]+")
MD_LINK = re.compile(r"\[([^\]]*)\]\((https?://[^)\s]+)\)")
TABLE_ROW = re.compile(
    r"^\|\s*(?:\d+\)\s*)?\*\*(?P<title>.+?)\*\*\s*(?:[-–—:]\s*)?(?P<summary>.*?)\|(?P<links>.*)\|\s*$"
)
BULLET = re.compile(r"^(?:[•●▪◦·\-+]\s+|\*\s+(?!\*)|\d+[.)]\s+)")
BILINGUAL = re.compile(r"\s+/\s+")  # "번역 제목 / English Title"; not "TCP/IP"
READING_LIST_KEY = re.compile(
    r"^\*\s*(auteur|author|auteurs|authors|original|source|lien|link)\s*[:：]\s*(.*)$", re.I
)


@dataclass(frozen=True)
class Line:
    text: str  # cleaned: no bullets, quote markers, emphasis or heading marks
    quoted: bool  # was a "> " quote (digests quote the English original)
    heading: int  # Markdown heading level, 0 if none


def parse_digest(text: str, *, content_type: str | None = None, uri: str = "") -> list[PaperDoc]:
    """All papers a digest describes; [] when it describes none (the caller reports it)."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return []
    if content_type == "text/html" or (content_type is None and looks_like_html(text)):
        text = html_to_text(text)
    raw = text.split("\n")
    lines = [_clean(line) for line in raw]
    parsers: list[Callable[[], list[PaperDoc]]] = [
        lambda: _parse_table(raw),
        lambda: _parse_reading_list(raw),
        lambda: _parse_labelled(lines),
        lambda: _parse_headings(lines),
    ]
    # Shapes can overlap (an HTML page with labels under <h3> titles): keep the
    # reading that finds the most plausible papers.
    return max((parser() for parser in parsers), key=_plausibility)


def _plausibility(papers: list[PaperDoc]) -> int:
    return sum(1 + bool(p.arxiv_id) + bool(p.sections) - 2 * _is_prose(p.title) for p in papers)


# ---- shape 1: DAIR.AI tables ----------------------------------------------------


def _parse_table(raw: list[str]) -> list[PaperDoc]:
    papers = []
    for row in raw:
        match = TABLE_ROW.match(row.strip())
        if not match or not MD_LINK.search(match["links"] + match["summary"]):
            continue  # the header row, or a row without a paper link
        title = _strip_md(match["title"]).strip()
        summary = _strip_md(match["summary"]).strip(" -–—")
        links = _classify_links([url for _, url in MD_LINK.findall(match["links"] + summary)])
        sections = [Section("digest", summary, detect_language(summary) or "en", heading="summary")]
        papers.append(_paper(title, None, links, sections if summary else []))
    return papers


# ---- shape 2: reading lists (*auteur: / *original:) -----------------------------


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
            if READING_LIST_KEY.match(line) or _is_prose(line):
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
                links.update(_classify_links(URL.findall(value)))
            continue
        if pending_author and not _is_prose(line):
            authors.append(line)
            pending_author = False
        elif _is_prose(line):
            prose.append(line)
    lang = detect_language(" ".join(prose) or title) or "fr"
    sections = [
        Section("digest", " / ".join(titles), detect_language(title) or lang, heading="title")
    ]
    sections += [Section("digest", p, detect_language(p) or lang) for p in prose]
    paper = _paper(title, english, links, sections)
    paper.authors = authors
    return paper


# ---- shape 3: labelled digests -------------------------------------------------


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
        if _label(line.text) or line.quoted or URL.fullmatch(line.text) or _is_prose(line.text):
            return None
        return above
    return None


def _block_paper(title_line: str, body: list[Line]) -> PaperDoc:
    local, english = _split_title(title_line)
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
        if urls and len(URL.sub("", line.text).strip()) < 3:
            links.update({k: v for k, v in _classify_links(urls).items() if k not in links})
            continue
        if label in ("intro", "abstract"):
            _add_text(sections, line, label)
    return _paper(local, english, links, sections)


# ---- shape 4: heading-structured pages -----------------------------------------


def _parse_headings(lines: list[Line]) -> list[PaperDoc]:
    levels = [line.heading for line in lines if line.heading]
    papers = []
    for level in sorted(set(levels), reverse=True):
        starts = [i for i, line in enumerate(lines) if line.heading == level]
        candidates = []
        for n, start in enumerate(starts):
            end = starts[n + 1] if n + 1 < len(starts) else len(lines)
            body = [
                line for line in lines[start + 1 : end] if not line.heading or line.heading > level
            ]
            paper = _block_paper(lines[start].text, body)
            if "paper" in paper.links or BILINGUAL.search(lines[start].text):
                candidates.append(paper)
        if len(candidates) > len(papers):
            papers = candidates
    return papers


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
    text = MD_LINK.sub(lambda m: f"{m[1]} {m[2]}", text)
    return re.sub(r"(\*\*|__|`)", "", text)


def _label(text: str) -> str | None:
    """Which section label a line is, if it is one ("논문 초록 (Abstract)" -> abstract)."""
    if not text or len(text) > 40:
        return None
    key = re.sub(r"[(（\[].*?[)）\]]", "", unicodedata.normalize("NFKC", text))
    key = " ".join(key.strip(" :：-*#").split()).casefold()
    return LABEL_OF.get(key)


def _is_prose(text: str) -> bool:
    """Sentences, not titles: long, or ending like a sentence."""
    return len(text) > 220 or (len(text) > 40 and bool(re.search(r"[.。!?।]$", text)))


def _split_title(line: str) -> tuple[str, str | None]:
    """("번역 제목", "English Title") from "번역 제목 / English Title"."""
    parts = BILINGUAL.split(line, maxsplit=1)
    if len(parts) == 2 and detect_language(parts[1]) == "en":
        local = parts[0]
        if detect_language(local) != "en" or any(ord(ch) > 0x2FF for ch in local):
            return local.strip(), parts[1].strip()
    return line.strip(), None


def _add_text(sections: list[Section], line: Line, label: str) -> None:
    """Merge consecutive lines of one language under one label into one Section."""
    lang = detect_language(line.text)
    last = sections[-1] if sections else None
    if last and last.heading == label and last.lang == lang and not line.quoted:
        sections[-1] = Section("digest", f"{last.text}\n{line.text}", lang, heading=label)
    else:
        sections.append(Section("digest", line.text, lang, heading=label))


def _classify_links(urls: list[str]) -> dict[str, str]:
    links: dict[str, str] = {}
    for url in urls:
        url = url.rstrip(".,;")
        host = re.sub(r"^https?://(www\.)?", "", url).split("/")[0].lower()
        if host.endswith("arxiv.org"):
            kind = "pdf" if "/pdf/" in url and "paper" in links else "paper"
        elif host in ("github.com", "gitlab.com", "huggingface.co"):
            kind = "code"
        elif host in ("x.com", "twitter.com"):
            kind = "tweet"
        elif url.lower().endswith(".pdf"):
            kind = "pdf" if "paper" in links else "paper"
        else:
            kind = "paper" if "paper" not in links else "post"
        links.setdefault(kind, url)
    return links


def _paper(
    title: str, english: str | None, links: dict[str, str], sections: list[Section]
) -> PaperDoc:
    title = " ".join(title.split())
    titles = {}
    if english:
        titles["en"] = english
        titles[detect_language(title) or "und"] = title
    else:
        titles[detect_language(title) or "en"] = title
    arxiv_id = next((find_arxiv_id(u) for u in links.values() if "arxiv.org" in u), None)
    if arxiv_id and links.get("paper", "").find("arxiv.org") >= 0:
        links.setdefault("pdf", f"https://arxiv.org/pdf/{arxiv_id}")
    return PaperDoc(
        title=english or title,
        titles=titles,
        arxiv_id=arxiv_id,
        links=links,
        sections=[s for s in sections if s.text.strip()],
    )
