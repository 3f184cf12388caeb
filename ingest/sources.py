"""What the user names -> raw bytes to parse: files, folders, http(s) URLs, arXiv ids.

Loading is separate from parsing so the caller can compare a source's sha256
with the catalog and skip unchanged sources before doing any parsing work.
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from paperlens.ingest.config import Settings
from paperlens.ingest.documents import PaperDoc, SourceDoc, sha256_bytes
from paperlens.ingest.errors import IngestError

TEXT_SUFFIXES = {".txt": "text/plain", ".md": "text/markdown", ".markdown": "text/markdown"}
HTML_SUFFIXES = {".html": "text/html", ".htm": "text/html"}
PDF_SUFFIXES = {".pdf": "application/pdf"}
SUPPORTED = {**TEXT_SUFFIXES, **HTML_SUFFIXES, **PDF_SUFFIXES}

RefKind = Literal["file", "url", "arxiv"]


@dataclass(frozen=True)
class SourceRef:
    """One thing to ingest, as resolved from the user's argument."""

    kind: RefKind
    value: str  # a path, a URL, or an arXiv id
    version: str | None = None  # arXiv version ("v2"), when the ref named one


@dataclass(frozen=True)
class RawSource:
    uri: str
    data: bytes
    content_type: str  # mime type: text/plain, text/markdown, text/html, application/pdf
    etag: str | None = None  # HTTP validators of a URL source, kept for `refresh`
    last_modified: str | None = None

    @property
    def sha256(self) -> str:
        return sha256_bytes(self.data)

    @property
    def is_pdf(self) -> bool:
        return self.content_type == "application/pdf" or self.data[:5] == b"%PDF-"


def resolve_refs(args: list[str]) -> list[SourceRef | IngestError]:
    """Expand folders into their supported files; classify everything else.

    Unresolvable arguments come back as IngestError values (not raised), so one
    bad argument does not stop the others.
    """
    from paperlens.ingest.arxiv import parse_arxiv_ref

    refs: list[SourceRef | IngestError] = []
    for arg in args:
        path = Path(os.path.expanduser(arg))  # Path.expanduser raises on an unknown ~user
        if not arg.strip():  # an unset shell variable: Path("") is the current folder
            refs.append(IngestError("an empty source was given (a file, folder, URL or arXiv id)"))
        elif arg.startswith(("http://", "https://")):
            arxiv = parse_arxiv_ref(arg)
            refs.append(SourceRef("arxiv", *arxiv) if arxiv else SourceRef("url", arg))
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and _is_supported(p))
            if not files:
                refs.append(IngestError(f"{arg}: no .txt, .md, .html or .pdf files in this folder"))
            refs.extend(SourceRef("file", str(p)) for p in files)
        elif path.exists():
            refs.append(SourceRef("file", str(path)))
        elif (arxiv := parse_arxiv_ref(arg)) is not None:
            refs.append(SourceRef("arxiv", *arxiv))
        elif "://" in arg:
            refs.append(IngestError(f"{arg}: only http(s) URLs are supported"))
        else:
            refs.append(IngestError(f"{arg}: no such file, folder, URL or arXiv id"))
    return refs


def stored_uris(arg: str, arxiv_abs_url: str) -> list[str]:
    """The URIs ingest records the source `arg` names under, ingested or failed, and
    whether or not its file still exists: a file's resolved path, a URL without user
    name and password, an arXiv paper's abs URL (and its bare id, which a failed
    fetch of it is recorded under). A folder is not expanded: its files may be gone."""
    from paperlens.ingest.arxiv import parse_arxiv_ref

    arg = arg.strip()
    if not arg:
        return []
    uris = []
    if arxiv := parse_arxiv_ref(arg):
        arxiv_id, version = arxiv
        uris += [f"{arxiv_abs_url.rstrip('/')}/{arxiv_id}{version or ''}", arxiv_id]
    if arg.startswith(("http://", "https://")):
        return uris or [without_credentials(arg)]
    return [*uris, str(Path(os.path.expanduser(arg)).resolve())]


def without_credentials(url: str) -> str:
    """A URL without its "user:password@": what the catalog keeps, for readers to see."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def load_file(path: Path, settings: Settings) -> RawSource:
    """Read a local digest or PDF, refusing what paperlens cannot parse."""
    if not path.is_file():
        raise IngestError(f"{path}: not a file")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise IngestError(
            f"{path}: unsupported file type {suffix or '(none)'} "
            "(expected .txt, .md, .html or .pdf)"
        )
    size = path.stat().st_size
    if size == 0:
        raise IngestError(f"{path}: empty file")
    if size > settings.max_download_bytes:
        raise IngestError(f"{path}: larger than the {settings.max_download_mb:g} MB limit")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    return RawSource(str(path.resolve()), data, SUPPORTED[suffix])


def _cap_entry(paper: PaperDoc, limit: int) -> str | None:
    """Cut `paper`'s text to `limit` characters; its title when something was cut."""
    if sum(len(section.text) for section in paper.sections) <= limit:
        return None
    kept, left = [], limit
    for section in paper.sections:
        if left <= 0:
            break
        kept.append(replace(section, text=section.text[:left]))
        left -= len(section.text)
    paper.sections = kept
    return paper.title[:60]


def load_url(url: str, settings: Settings, fetcher=None) -> RawSource:
    """Download a digest page (or a PDF) over http(s), within the safety limits."""
    from paperlens.ingest.fetch import Fetcher

    return raw_from_fetched((fetcher or Fetcher(settings)).get(url))


def raw_from_fetched(fetched) -> RawSource:
    """A fetched http(s) response (an `ingest.fetch.Fetched`) as a source to parse."""
    if not fetched.content:
        raise IngestError(f"{fetched.url}: empty response")
    content_type = fetched.content_type or _guess_type(fetched.url)
    return RawSource(
        fetched.url, fetched.content, content_type, fetched.etag, fetched.last_modified
    )


def parse_raw(raw: RawSource, settings: Settings) -> SourceDoc:
    """Turn loaded bytes into a SourceDoc (digest text or PDF)."""
    if raw.is_pdf:
        return _parse_pdf(raw, settings)
    if raw.content_type.startswith(("application/pdf",)):
        raise IngestError(f"{raw.uri}: not a PDF (no %PDF header)")
    if raw.content_type not in ("text/plain", "text/markdown", "text/html", "text/x-markdown"):
        raise IngestError(
            f"{raw.uri}: unsupported content type {raw.content_type} "
            "(expected a text, Markdown, HTML or PDF document)"
        )
    from paperlens.ingest.digests import read_digest

    text = decode_text(raw.data, raw.uri)
    if len(text) > settings.max_digest_chars:
        raise IngestError(
            f"{raw.uri}: {len(text):,} characters is over the {settings.max_digest_chars:,} "
            "limit for one digest (PAPERLENS_MAX_DIGEST_CHARS); split it"
        )
    result = read_digest(text, content_type=raw.content_type)
    if len(result.papers) > settings.max_papers_per_source:
        raise IngestError(
            f"{raw.uri}: {len(result.papers):,} papers is over the "
            f"{settings.max_papers_per_source:,} limit for one source; split it"
        )
    if not result.papers:
        seen = f"; {result.entries} linked entries, none to a paper" if result.entries else ""
        raise IngestError(f"{raw.uri}: no papers found (is this a paper digest?{seen})")
    cut = [_cap_entry(paper, settings.max_entry_chars) for paper in result.papers]
    cut = [title for title in cut if title]
    warnings = result.warnings()
    if cut:
        warnings.append(
            f"{len(cut)} entries over {settings.max_entry_chars:,} characters were cut to it "
            f"(PAPERLENS_MAX_ENTRY_CHARS): {', '.join(cut[:3])}"
        )
    return SourceDoc(
        uri=raw.uri,
        sha256=raw.sha256,
        kind="digest",
        papers=result.papers,
        title=_source_title(text, raw.content_type),
        warnings=warnings,
        entries=result.entries,
        skipped=result.skipped,
    )


def decode_text(data: bytes, uri: str) -> str:
    """Bytes -> str: UTF-8 (with or without BOM), UTF-16 with a BOM, else the detected
    charset."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise IngestError(f"{uri}: not valid UTF-16 text") from exc
        if "\x00" in text:
            raise IngestError(f"{uri}: not a text file (binary content)")
        return text
    if b"\x00" in data[:4096]:
        raise IngestError(f"{uri}: not a text file (binary content)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise IngestError(f"{uri}: not a text file (unknown encoding)")
    return str(best)


def _parse_pdf(raw: RawSource, settings: Settings) -> SourceDoc:
    from paperlens.ingest.pdf import parse_pdf_bytes

    return parse_pdf_bytes(raw.data, uri=raw.uri, settings=settings)


def _is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED and not path.name.startswith(".")


def _guess_type(url: str) -> str:
    suffix = Path(url.split("?")[0]).suffix.lower()
    return SUPPORTED.get(suffix, "text/html")


def _source_title(text: str, content_type: str) -> str | None:
    """A page's <title>, else its first line of text without Markdown marks ("# ")."""
    if content_type != "text/html":
        return _first_line(text)
    from paperlens.ingest.htmltext import html_title, html_to_text

    title = html_title(text)
    return title[:200] if title else _first_line(html_to_text(text))


def _first_line(text: str) -> str | None:
    for line in text.splitlines():
        line = MARKDOWN_LEAD.sub("", line).strip()
        if line:
            return line[:200]
    return None


MARKDOWN_LEAD = re.compile(r"^\s*(?:#{1,6}\s|>\s?|[-*+•]\s)+")
