"""`PAPERLENS_INDEX_URL` -> a Milvus client, with one-line errors for what a user
can get wrong (a bad URL, a server that does not answer).

Forms: `milvus://host:19530` (plain), `milvuss://host:19530` (TLS), and a path
ending `.db` (Milvus Lite: an embedded engine in this process; one process at a
time may open a given `.db`). Credentials come from settings or the environment
(`PAPERLENS_MILVUS_USER`, `_PASSWORD`, `_TOKEN`), never from the URL, so the URL
can be shown in messages and `stats` as it is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from paperlens.ingest.config import Settings
from paperlens.ingest.errors import PaperlensError

CONNECT_TIMEOUT = 10.0  # seconds before a server that does not answer is an error


class IndexUnreachable(PaperlensError):
    """The configured index engine cannot be reached or the URL is not one we know."""


@dataclass(frozen=True)
class IndexURL:
    """A parsed PAPERLENS_INDEX_URL: a server (`host`, `port`, `tls`) or a Lite path."""

    text: str
    lite_path: Path | None = None
    host: str = ""
    port: int = 19530
    tls: bool = False

    @property
    def is_lite(self) -> bool:
        return self.lite_path is not None

    @property
    def client_uri(self) -> str:
        if self.lite_path is not None:
            return str(self.lite_path)
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"


def parse_index_url(text: str) -> IndexURL:
    """Parse, or raise one line saying which forms are understood."""
    text = text.strip()
    if text.endswith(".db") and "://" not in text:
        return IndexURL(text, lite_path=Path(text).expanduser().resolve())
    parts = urlsplit(text)
    forms = "use milvus://HOST:PORT, milvuss://HOST:PORT (TLS) or a path ending .db"
    if parts.scheme not in ("milvus", "milvuss") or not parts.hostname:
        raise IndexUnreachable(f"PAPERLENS_INDEX_URL={text!r} is not an index address: {forms}")
    if parts.username or parts.password:
        raise IndexUnreachable(
            "PAPERLENS_INDEX_URL must not carry credentials: set PAPERLENS_MILVUS_USER and "
            "PAPERLENS_MILVUS_PASSWORD (or PAPERLENS_MILVUS_TOKEN) instead"
        )
    try:
        port = parts.port or 19530
    except ValueError:
        raise IndexUnreachable(f"PAPERLENS_INDEX_URL={text!r} has a bad port: {forms}") from None
    shown = f"{parts.scheme}://{parts.hostname}:{port}"
    return IndexURL(shown, host=parts.hostname, port=port, tls=parts.scheme == "milvuss")


def connect(url: IndexURL, settings: Settings):
    """A `pymilvus.MilvusClient` for `url`, or a one-line `IndexUnreachable`."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise IndexUnreachable(
            "PAPERLENS_INDEX_URL names Milvus but pymilvus is not installed: "
            "pip install 'paperlens[milvus]'"
        ) from None
    # pymilvus logs every failed call with its traceback (and iterator fallbacks) at
    # ERROR/WARNING level; the user gets our one line instead. Set after its import,
    # which configures its loggers.
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    if url.is_lite:
        # Milvus Lite's in-process server answers pymilvus' timestamp request (made by
        # every query iterator) with "not implemented", logged with a traceback; pymilvus
        # then uses its own clock, which is right for one process.
        logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
        # A .db another process holds is logged with a traceback before pymilvus fails.
        logging.getLogger("milvus_lite").setLevel(logging.CRITICAL)
    options: dict = {"uri": url.client_uri, "timeout": CONNECT_TIMEOUT}
    if settings.milvus_token is not None:
        options["token"] = settings.milvus_token.get_secret_value()
    elif settings.milvus_user:
        password = settings.milvus_password.get_secret_value() if settings.milvus_password else ""
        options.update(user=settings.milvus_user, password=password)
    if url.is_lite:
        url.lite_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        client = MilvusClient(**options)
        client.list_collections()  # a server that accepts the connection but not us fails here
    except Exception as exc:  # pymilvus raises bare MilvusException/grpc errors for all of these
        raise IndexUnreachable(f"cannot use the index at {url.text}: {_reason(exc, url)}") from None
    return client


def _reason(exc: Exception, url: IndexURL) -> str:
    message = str(getattr(exc, "message", "") or exc).strip().splitlines()
    text = message[0] if message else type(exc).__name__
    lowered = text.lower()
    if url.is_lite and ("lock" in lowered or "open local milvus" in lowered or not text):
        return (
            "another process has this Milvus Lite file open (Lite is one process at a time; "
            "serve it with `milvus-lite server` or use a Milvus server to share it)"
        )
    if "unavailable" in lowered or "connect" in lowered or "refused" in lowered or not text:
        return "connection refused or no Milvus server answering there"
    if "auth" in lowered or "credential" in lowered or "denied" in lowered:
        return "the server refused the credentials (PAPERLENS_MILVUS_USER/PASSWORD/TOKEN)"
    return text[:200]
