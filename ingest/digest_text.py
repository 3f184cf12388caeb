"""Text helpers every digest reading shares: Markdown clean-up, titles, sections, papers."""

from __future__ import annotations

import re

from paperlens.ingest.digest_links import MD_IMAGE, MD_LINK, arxiv_id_of, classify_links
from paperlens.ingest.documents import PaperDoc, Section
from paperlens.ingest.langid import detect_language

BILINGUAL = re.compile(r"\s+/\s+")  # "번역 제목 / English Title"; not "TCP/IP"
HTML_TAG = re.compile(r"<[^>]+>")
BR = re.compile(r"<br\s*/?>", re.IGNORECASE)


def strip_md(text: str) -> str:
    """Markdown/HTML inline markup -> plain text; a link keeps its text, not its URL."""
    text = BR.sub("\n", text)
    text = MD_IMAGE.sub("", text)
    text = MD_LINK.sub(lambda m: m[1], text)
    text = HTML_TAG.sub("", text)
    return re.sub(r"(\*\*|__|`)", "", text)


def is_prose(text: str) -> bool:
    """Sentences, not titles: long, or ending like a sentence."""
    return len(text) > 220 or (len(text) > 40 and bool(re.search(r"[.。!?।]$", text)))


def split_title(line: str) -> tuple[str, str | None]:
    """("번역 제목", "English Title") from "번역 제목 / English Title"."""
    parts = BILINGUAL.split(line, maxsplit=1)
    if len(parts) == 2 and detect_language(parts[1]) == "en":
        local = parts[0]
        if detect_language(local) != "en" or any(ord(ch) > 0x2FF for ch in local):
            return local.strip(), parts[1].strip()
    return line.strip(), None


def title_language(title: str, hint: str | None = None) -> str | None:
    """Language of a title; `hint` is the language of the text describing it."""
    if title.isascii() and hint == "en":
        return "en"  # lingua takes ms per short title and adds nothing here
    # One or two ASCII words ("ResNet", "1.58-bit Diffusion") are names, which
    # lingua assigns to German or French at random; digests write them in English.
    if title.isascii() and len(title.split()) <= 3:
        return "en" if re.search(r"[A-Za-z]", title) else None
    return detect_language(title)


def text_sections(lines: list[str], heading: str) -> list[Section]:
    """Description lines -> Sections: quoted lines (the English original) stand apart."""
    groups: list[tuple[bool, list[str]]] = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        quoted = line.startswith(">")
        line = line.lstrip("> ").strip()
        if not line:
            continue
        if groups and groups[-1][0] == quoted:
            groups[-1][1].append(line)
        else:
            groups.append((quoted, [line]))
    sections = []
    for _, group in groups:
        text = "\n".join(group)
        sections.append(Section("digest", text, detect_language(text) or "en", heading=heading))
    return sections


def make_paper(
    title: str,
    english: str | None,
    links: dict[str, str],
    sections: list[Section],
    *,
    arxiv_id: str | None = None,
    listed_under: str | None = None,
) -> PaperDoc:
    """A PaperDoc with titles per language and the arXiv id from its links."""
    title = " ".join(title.split())
    hint = sections[0].lang if sections else None
    titles = {}
    if english:
        titles["en"] = english
        titles[title_language(title, hint) or "und"] = title
    else:
        titles[title_language(title, hint) or "en"] = title
    if arxiv_id is None:
        arxiv_id = next((a for u in links.values() if (a := arxiv_id_of(u))), None)
    if arxiv_id and arxiv_id_of(links.get("paper", "")):
        links.setdefault("pdf", f"https://arxiv.org/pdf/{arxiv_id}")
    return PaperDoc(
        title=english or title,
        titles=titles,
        arxiv_id=arxiv_id,
        links=links,
        sections=[s for s in sections if s.text.strip()],
        listed_under=listed_under,
    )


def links_dict(urls: list[str]) -> dict[str, str]:
    """classify_links for the URLs under a digest's "paper link" label: they are the paper."""
    from paperlens.ingest.digest_links import Link

    return classify_links([Link("paper", url, 0) for url in urls])
