"""How the Milvus backend's records travel as rows: ids, versions, packed vectors,
and the conversions to and from the catalog's records (index/records.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from datetime import UTC, datetime

import numpy as np

from paperlens.index.hits import Passage
from paperlens.index.lexical import tokenize
from paperlens.index.records import NewPassage, SourceRecord, paper_fields
from paperlens.ingest.documents import PaperDoc

BATCH = 500  # rows per upsert/get call (well under Milvus's message size cap)
SCAN_BATCH = 2_000  # rows per query-iterator page
MARKER = [0.0, 0.0]  # the `_` vector every collection must have
PASSAGE_FIELDS = [
    "id", "source_id", "version", "ordinal", "paper_id", "kind", "lang", "page",
    "header", "text", "start", "end", "dl",
]  # fmt: skip
SOURCE_FIELDS = ["id", "record", "version", "first_seen", "stats"]

Sums = dict[str, tuple[int, np.ndarray]]  # language ("" = unknown) -> (passages, vector sum)


def id53(*parts: object) -> int:
    """A 53-bit id from its parts: unique without a shared counter, exact in JSON."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 11 or 1


_last_version = 0
_version_lock = threading.Lock()


def new_version() -> int:
    """A number no earlier write in this process used, time-ordered across processes."""
    global _last_version
    with _version_lock:
        _last_version = max(time.time_ns() // 1000, _last_version + 1)
        return _last_version


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def quote(text: str) -> str:
    """A string literal for a Milvus filter expression."""
    return json.dumps(text, ensure_ascii=False)


def pack(vector: np.ndarray) -> str:
    return base64.b64encode(np.asarray(vector, np.float32).tobytes()).decode()


def unpack(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.float32)


def pack_sums(sums: Sums) -> dict:
    return {lang: [int(n), pack(total)] for lang, (n, total) in sums.items()}


def unpack_sums(packed: dict) -> Sums:
    return {lang: (int(n), unpack(total).astype(np.float64)) for lang, (n, total) in packed.items()}


def pack_rows(rows: list[tuple[str, bytes]]) -> list[list[str]]:
    return [[lang, base64.b64encode(blob).decode()] for lang, blob in rows]


def unpack_rows(rows: list[list[str]]) -> list[tuple[str, bytes]]:
    return [(lang, base64.b64decode(blob)) for lang, blob in rows]


def source_stats(passages: list[NewPassage], vectors: np.ndarray, texts: list[str]) -> dict:
    """What a source adds to library-wide figures: per-language vector sums, BM25 totals."""
    sums: Sums = {}
    for p, v in zip(passages, vectors, strict=True):
        n, total = sums.get(p.lang or "", (0, np.zeros(vectors.shape[1], np.float64)))
        sums[p.lang or ""] = (n + 1, total + v)
    return {
        "docs": len(passages),
        "tokens": sum(len(tokenize(t)) for t in texts),
        "sums": pack_sums(sums),
    }


def empty_stats() -> dict:
    return {"docs": 0, "tokens": 0, "sums": {}}


def passage_from_row(row: dict) -> Passage:
    return Passage(
        id=row["id"],
        paper_id=row["paper_id"],
        source_id=row["source_id"],
        kind=row["kind"],
        lang=row["lang"] or None,
        page=None if row["page"] < 0 else row["page"],
        text=row["text"],
        start=row["start"],
        end=row["end"],
    )


def mention_doc(paper: PaperDoc, first_seen: int) -> dict:
    return {**paper_fields(paper), "first_seen": first_seen}


def source_record(row: dict) -> SourceRecord:
    record = row["record"]
    return SourceRecord(
        id=row["id"],
        uri=record["uri"],
        kind=record["kind"],
        sha256=record.get("sha256"),
        title=record.get("title"),
        status=record["status"],
        error=record.get("error"),
        ingested_at=record["ingested_at"],
        etag=record.get("etag"),
        last_modified=record.get("last_modified"),
        checked_at=record.get("checked_at"),
        warnings=list(record.get("warnings") or []),
    )
