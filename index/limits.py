"""Bounds on what one query may cost, checked the same way in the CLI and the app.

A 200,000-character query took 103 s to embed and score (four of them filled
the app's search slots); a negative k was accepted silently.
"""

from __future__ import annotations

from paperlens.ingest.config import Settings
from paperlens.ingest.errors import PaperlensError


class QueryTooLong(PaperlensError):
    """A query, question or comparison text over `max_query_chars`."""


def check_query(text: str | None, settings: Settings, what: str = "query") -> str:
    """`text` unchanged if it is within the length cap, else a one-line error."""
    text = text or ""
    if len(text) > settings.max_query_chars:
        raise QueryTooLong(
            f"the {what} is {len(text):,} characters; the limit is "
            f"{settings.max_query_chars:,} (PAPERLENS_MAX_QUERY_CHARS)"
        )
    return text


def check_k(k: int, what: str = "k") -> int:
    """`k` if it is a result count (at least 1), else a one-line error. A large k is
    fine: results stop at what the library holds."""
    if k < 1:
        raise PaperlensError(f"{what} must be at least 1 (got {k})")
    return k
