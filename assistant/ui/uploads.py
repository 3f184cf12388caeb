"""What the Library tab accepts: uploaded files (kept under the data directory) and
lines of URLs or arXiv ids, never paths on the server."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from paperlens.ingest.arxiv import parse_arxiv_ref
from paperlens.ingest.config import Settings
from paperlens.ingest.errors import PaperlensError
from paperlens.ingest.sources import SUPPORTED


def store_uploads(paths: list[str], settings: Settings) -> tuple[list[str], list[str]]:
    """Copy accepted uploads under the data dir; (stored, errors).

    Each upload lands in a folder named by its content's hash, so two people's
    files of the same name never replace each other (the same bytes land in the
    same place). Gradio's temporary copy is removed: uploads are not served back.
    """
    folder = settings.home / "uploads"
    stored, errors = [], []
    limit = settings.max_upload_mb * 1024 * 1024
    for path in paths or []:
        source = Path(path)
        name = re.sub(r"[^\w.\-]+", "_", source.name).strip("._") or "upload"
        if source.suffix.lower() not in SUPPORTED:
            errors.append(f"{name}: only PDF, text, Markdown or HTML files are accepted")
        elif source.stat().st_size > limit:
            errors.append(f"{name}: larger than the {settings.max_upload_mb:g} MB upload limit")
        elif source.suffix.lower() == ".pdf" and _head(source) != b"%PDF-":
            errors.append(f"{name}: not a PDF")
        else:
            target = folder / _file_sha256(source)[:24] / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            stored.append(str(target))
        _drop_gradio_copy(source)
    return stored, errors


def _head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(5)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _drop_gradio_copy(path: Path) -> None:
    """Delete Gradio's cached upload (its file route would serve it to anyone signed in)."""
    cache = Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")
    try:
        if path.resolve().is_relative_to(cache.resolve()):
            path.unlink(missing_ok=True)
    except OSError:
        pass


def web_refs(text: str) -> list[str]:
    """The add box's lines as URLs: http(s) URLs and arXiv ids only.

    Never a path on the server: the app would read the server's files for whoever
    asked, and its errors ("no such file" vs "unsupported type") would tell them
    which files exist. arXiv ids become abs URLs so no argument is ever looked
    up on the disk. Files come in through the upload box; the operator ingests
    server folders with `paperlens ingest`.
    """
    refs = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        if line.lower().startswith(("http://", "https://")):
            refs.append(line)
        elif (arxiv := parse_arxiv_ref(line)) is not None:
            refs.append(f"https://arxiv.org/abs/{arxiv[0]}{arxiv[1] or ''}")
        else:
            shown = line if len(line) <= 80 else line[:77] + "…"
            raise PaperlensError(
                f"{shown}: not a URL or arXiv id (upload files with the box below; "
                "the app never reads paths on the server)"
            )
    return refs
