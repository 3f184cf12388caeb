"""arXiv: ids and links -> metadata (Atom API) + PDF, politely and cached.

arXiv asks API clients for one request every 3 seconds and to identify
themselves; every request here goes through the Fetcher with that delay and
paperlens' User-Agent. PDFs are cached under the data dir by id + version and
never downloaded twice.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlencode

from paperlens.ingest.config import Settings
from paperlens.ingest.documents import PaperDoc, Section, SourceDoc, sha256_bytes
from paperlens.ingest.errors import IngestError, NetworkUnreachable
from paperlens.ingest.fetch import Fetcher

NEW_ID = r"\d{4}\.\d{4,5}"
OLD_ID = r"[a-z\-]+(?:\.[A-Z]{2})?/\d{7}"
REF = re.compile(
    rf"^(?:arxiv:\s*|https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/)?"
    rf"(?P<id>{NEW_ID}|{OLD_ID})(?P<version>v\d+)?(?:\.pdf)?/?$",
    re.IGNORECASE,
)
ATOM = {"atom": "http://www.w3.org/2005/Atom", "arxiv": "http://arxiv.org/schemas/atom"}


def parse_arxiv_ref(ref: str) -> tuple[str, str | None] | None:
    """(id, version) from "2310.02207", "arXiv:2310.02207v2", abs/pdf links; else None."""
    match = REF.match(ref.strip())
    if not match:
        return None
    return match["id"], (match["version"].lower() if match["version"] else None)


class ArxivClient:
    def __init__(self, settings: Settings, fetcher: Fetcher | None = None) -> None:
        self.settings = settings
        self.fetcher = fetcher or Fetcher(settings)

    def metadata(self, arxiv_id: str) -> PaperDoc:
        """Title, authors, date and abstract from the arXiv API's Atom feed."""
        url = f"{self.settings.arxiv_api_url}?{urlencode({'id_list': arxiv_id})}"
        feed = self._get(url).content
        return parse_atom_entry(feed, arxiv_id, self.settings)

    def pdf_path(self, arxiv_id: str, version: str | None = None) -> Path:
        """The paper's PDF in the cache, downloaded once."""
        name = f"{arxiv_id.replace('/', '_')}{version or ''}.pdf"
        dest = self.settings.cache_dir / "pdf" / name
        if dest.exists() and dest.stat().st_size > 0:
            return dest
        url = f"{self.settings.arxiv_pdf_url.rstrip('/')}/{arxiv_id}{version or ''}"
        return self.fetcher.download(
            url, dest, polite_delay=self.settings.arxiv_delay_seconds, expect_pdf=True
        )

    def fetch_paper(
        self, arxiv_id: str, version: str | None = None, *, with_pdf: bool = True
    ) -> SourceDoc:
        """Metadata + abstract, and the PDF's pages when `with_pdf` (errors become warnings)."""
        paper = self.metadata(arxiv_id)
        warnings: list[str] = []
        digest = sha256_bytes(repr((paper.title, paper.abstract)).encode())
        if with_pdf:
            try:
                from paperlens.ingest.pdf import pdf_sections, read_pdf

                path = self.pdf_path(arxiv_id, version)
                data = path.read_bytes()
                digest = sha256_bytes(data)
                paper.sections += pdf_sections(
                    read_pdf(data, self.settings, name=f"PDF of {arxiv_id}")
                )
            except NetworkUnreachable:
                raise
            except IngestError as exc:
                warnings.append(f"PDF of {arxiv_id} skipped: {exc}")
        abs_url = f"{self.settings.arxiv_abs_url.rstrip('/')}/{arxiv_id}{version or ''}"
        return SourceDoc(abs_url, digest, "arxiv", [paper], title=paper.title, warnings=warnings)

    def _get(self, url: str):
        return self.fetcher.get(url, polite_delay=self.settings.arxiv_delay_seconds)


def parse_atom_entry(feed: bytes, arxiv_id: str, settings: Settings) -> PaperDoc:
    try:
        root = ET.fromstring(feed)
    except ET.ParseError as exc:
        raise IngestError(f"arXiv answered with an unreadable feed for {arxiv_id}") from exc
    entry = root.find("atom:entry", ATOM)
    title = _text(entry, "atom:title") if entry is not None else ""
    if entry is None or not title or title.lower() == "error":
        raise IngestError(f"arXiv has no paper {arxiv_id}")
    abstract = _text(entry, "atom:summary")
    authors = [_text(a, "atom:name") for a in entry.findall("atom:author", ATOM)]
    published = _text(entry, "atom:published")[:10] or None
    links = {
        "paper": f"{settings.arxiv_abs_url.rstrip('/')}/{arxiv_id}",
        "pdf": f"{settings.arxiv_pdf_url.rstrip('/')}/{arxiv_id}",
    }
    return PaperDoc(
        title=title,
        titles={"en": title},
        arxiv_id=arxiv_id,
        authors=[a for a in authors if a],
        published=published,
        abstract=abstract or None,
        links=links,
        sections=[Section("abstract", abstract, "en", heading="Abstract")] if abstract else [],
    )


def _text(node: ET.Element | None, path: str) -> str:
    found = node.find(path, ATOM) if node is not None else None
    return " ".join((found.text or "").split()) if found is not None else ""
