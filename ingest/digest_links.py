"""What a link in a digest points to: a paper, other content, or chatter.

Digest parsing is anchored on links, so this is where "is this a paper?" is
decided once: arXiv (any form), DOIs, proceedings and PDF files are papers;
social posts, videos, images and badges never are; everything else is
"content" (a blog post, a project page) that counts as a paper only where
the digest says so (a "Paper" label, a table of papers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from paperlens.ingest.documents import find_arxiv_id

LinkKind = Literal["paper", "content", "social", "media"]

MD_LINK = re.compile(r"(?<!!)\[((?:[^\[\]]|\[[^\]]*\])*)\]\((https?://[^)\s]+)\)")
MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
BARE_URL = re.compile(r"https?://[^\s<>()\[\]\"'，。、）]+")
ARXIV_REF = re.compile(r"\barXiv\s*[:：]\s*(\d{4}\.\d{4,5})(v\d+)?", re.IGNORECASE)

ARXIV_HOSTS = ("arxiv.org", "export.arxiv.org", "alphaxiv.org", "ar5iv.labs.arxiv.org")
PAPER_HOSTS = (
    "doi.org",
    "openreview.net",
    "aclanthology.org",
    "aclweb.org",
    "proceedings.neurips.cc",
    "papers.nips.cc",
    "papers.neurips.cc",
    "proceedings.mlr.press",
    "jmlr.org",
    "openaccess.thecvf.com",
    "dl.acm.org",
    "ieeexplore.ieee.org",
    "semanticscholar.org",
    "biorxiv.org",
    "medrxiv.org",
    "ssrn.com",
    "sciencedirect.com",
    "link.springer.com",
    "science.org",
    "pnas.org",
)
PAPER_PATHS = re.compile(
    r"nature\.com/articles/|/doi/|huggingface\.co/papers/|paperswithcode\.com/paper/|"
    r"transformer-circuits\.pub/|/papers?/|/publications?/",
    re.IGNORECASE,
)
SOCIAL_HOSTS = (
    "x.com",
    "twitter.com",
    "facebook.com",
    "fb.com",
    "linkedin.com",
    "threads.net",
    "bsky.app",
    "reddit.com",
    "clubhouse.com",
    "zoom.us",
    "t.me",
)
MEDIA_HOSTS = (
    "youtube.com",
    "youtu.be",
    "bilibili.com",
    "b23.tv",
    "img.shields.io",
    "zhihu.com",
    "vimeo.com",
)
MEDIA_SUFFIX = re.compile(r"\.(png|jpe?g|gif|svg|webp|mp4|mp3)(\?.*)?$", re.IGNORECASE)

# Link texts that name the kind of link, not the paper ("[Paper](…)", "[논문](…)").
GENERIC_LABEL = re.compile(
    r"^(paper|papers|pdf|arxiv|abs|abstract|link|links|code|github|repo|tweet|thread|blog|"
    r"blog post|post|project|project page|page|demo|report|technical report|tech report|"
    r"system card|model card|book|dataset|data|video|website|site|here|source|original|"
    r"논문|원문|링크|코드|論文|原文|リンク|コード|论文|链接|代码|原文链接|论文链接|论文地址|代码链接|"
    r"論文リンク|पेपर|लिंक|lien|article|"
    r"papier|다시듣기|듣기)\s*\d*$",
    re.IGNORECASE,
)
# Labels that say the link IS the paper, whatever its host.
PAPER_LABEL = re.compile(
    r"^(paper|papers|pdf|arxiv|technical report|tech report|report|system card|model card|"
    r"book|논문|원문|論文|论文|论文链接|论文地址|論文リンク|पेपर|papier|article)\s*\d*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Link:
    """One link met in an entry: its text (may be empty) and where it points."""

    text: str
    url: str
    line: int  # index of the entry line it sits on, to split entries by link

    @property
    def kind(self) -> LinkKind:
        return link_kind(self.url)

    @property
    def arxiv_id(self) -> str | None:
        return arxiv_id_of(self.url)

    @property
    def generic(self) -> bool:
        """True when the link text names the kind of link, not the paper."""
        text = self.text.strip(" *_`'\"")
        if not text or GENERIC_LABEL.match(text) or BARE_URL.fullmatch(text):
            return True
        # "論文 · コード", "Paper | Code": a row of labels is still only labels
        parts = [p for p in re.split(r"[\s·|,/•、]+", text) if p]
        return all(GENERIC_LABEL.match(p) or p.isdigit() for p in parts)

    @property
    def labelled_paper(self) -> bool:
        return bool(PAPER_LABEL.match(self.text.strip(" *_`'\"")))


def host_of(url: str) -> str:
    return re.sub(r"^https?://(www\.)?", "", url).split("/")[0].split(":")[0].lower()


def _on(host: str, hosts: tuple[str, ...]) -> bool:
    return any(host == h or host.endswith("." + h) for h in hosts)


def arxiv_id_of(url: str) -> str | None:
    """The arXiv id a URL names: arxiv.org abs/pdf/html, mirrors, Hugging Face papers."""
    host = host_of(url)
    if _on(host, ARXIV_HOSTS) or "huggingface.co/papers/" in url:
        return find_arxiv_id(url)
    if host == "doi.org" and "arxiv." in url.lower():
        return find_arxiv_id(url)
    return None


def link_kind(url: str) -> LinkKind:
    host = host_of(url)
    if host in ("github.com", "gitlab.com"):
        return "content"  # a repository's /papers/ folder is still code
    if host.startswith("api."):
        return "content"  # an API (or its docs) is never a paper, even on a paper host
    if arxiv_id_of(url) or _on(host, PAPER_HOSTS) or PAPER_PATHS.search(url):
        return "paper" if not _on(host, SOCIAL_HOSTS + MEDIA_HOSTS) else "social"
    if _on(host, SOCIAL_HOSTS):
        return "social"
    if _on(host, MEDIA_HOSTS) or MEDIA_SUFFIX.search(url):
        return "media"
    if url.split("?")[0].lower().endswith(".pdf"):
        return "paper"
    return "content"


def find_links(lines: list[str]) -> list[Link]:
    """Markdown links, bare URLs and "arXiv:ID" mentions, in reading order."""
    found: list[Link] = []
    for number, line in enumerate(lines):
        line = MD_IMAGE.sub(" ", line)
        taken: list[tuple[int, int]] = []
        for match in MD_LINK.finditer(line):
            text = MD_IMAGE.sub("", match[1]).strip()
            found.append(Link(text, clean_url(match[2]), number))
            taken.append(match.span())
        for match in BARE_URL.finditer(line):
            if not any(start <= match.start() < end for start, end in taken):
                found.append(Link("", clean_url(match[0]), number))
        for match in ARXIV_REF.finditer(line):
            found.append(Link("", f"https://arxiv.org/abs/{match[1]}", number))
    return found


def clean_url(url: str) -> str:
    return url.rstrip(".,;:!?'\"")


def classify_links(links: list[Link]) -> dict[str, str]:
    """PaperDoc.links: first paper link as "paper", then pdf, code, tweet, post, video."""
    out: dict[str, str] = {}
    for link in links:
        url, host = link.url, host_of(link.url)
        if url in out.values():
            continue
        kind = link.kind
        if host in ("github.com", "gitlab.com") or (
            host == "huggingface.co" and "/papers/" not in url
        ):
            key = "code"
        elif kind == "paper" or (kind == "content" and link.labelled_paper):
            is_pdf = url.lower().split("?")[0].endswith(".pdf")
            key = "paper" if "paper" not in out else ("pdf" if is_pdf else "post")
        elif kind == "social":
            key = "tweet" if host in ("x.com", "twitter.com") else "social"
        elif kind == "media":
            if MEDIA_SUFFIX.search(url) or host == "img.shields.io":
                continue
            key = "video"
        else:
            key = "post"
        out.setdefault(key, url)
    return out
