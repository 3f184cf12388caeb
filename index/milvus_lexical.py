"""BM25 on Milvus with paperlens' own tokenization (index/lexical.py's `tokenize`).

Each passage stores its term frequencies as a sparse vector (term -> count,
terms hashed to 32 bits, as Milvus's own BM25 does) and its length. A query
reads each term's document frequency (one sparse search per term, counting
committed passages), asks Milvus for candidates by the idf-weighted overlap,
and scores them with exactly the BM25 of the default backend (Lucene's idf,
k1 = 1.5, b = 0.75, length over the library's mean). Why not Milvus's BM25
function: its analyzers split scripts differently from ours (Milvus Lite's
`standard` splits Devanagari words at their vowel signs and has no CJK bigrams),
so the two backends would rank different terms.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from paperlens.index.lexical import CANDIDATE_FLOOR, best, inverse_frequency, length_norm, tokenize

if TYPE_CHECKING:
    from paperlens.index.milvus_catalog import MilvusCatalog

NO_TERMS = 2**32 - 2  # the one entry of a passage without tokens (Milvus refuses empty vectors)
MAX_HITS = 16_384  # Milvus's largest `limit`: document frequencies above it are capped


def term_id(term: str) -> int:
    digest = hashlib.blake2b(term.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % NO_TERMS


def term_frequencies(terms: list[str]) -> tuple[dict[int, float], int]:
    """(sparse vector of term counts, length) of a tokenized passage."""
    counts = Counter(term_id(t) for t in terms)
    return ({k: float(v) for k, v in counts.items()} or {NO_TERMS: 1e-6}), len(terms)


class MilvusLexical:
    """`LexicalSearch` over a Milvus library's committed passages."""

    def __init__(self, catalog: MilvusCatalog) -> None:
        self.catalog = catalog
        self._totals: tuple[int, tuple[int, int]] | None = None

    def __len__(self) -> int:
        return self._library_totals()[0]

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        docs, tokens = self._library_totals()
        terms = list(dict.fromkeys(term_id(t) for t in tokenize(query)))
        if not docs or not terms or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        df = self._document_frequencies(terms)
        if not df:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        idf = {t: inverse_frequency(docs, n) for t, n in df.items()}
        avgdl = tokens / docs
        want = max(k, CANDIDATE_FLOOR)
        hits = self._sparse_search([idf], want + 50, ["tf", "dl"])[0]
        scored = []
        for row in hits[:want]:
            norm = length_norm(row["dl"], avgdl)
            tf = row["tf"]
            score = sum(w * tf[t] / (tf[t] + norm) for t, w in idf.items() if t in tf)
            scored.append((score, row["id"]))
        return best(scored, k)

    def _document_frequencies(self, terms: list[int]) -> dict[int, int]:
        """Committed passages holding each term (terms no passage holds are left out)."""
        found = self._sparse_search([{t: 1.0} for t in terms], MAX_HITS, [])
        return {t: len(hits) for t, hits in zip(terms, found, strict=True) if hits}

    def _sparse_search(
        self, vectors: list[dict], limit: int, fields: list[str]
    ) -> list[list[dict]]:
        """Committed passages by inner product with sparse `vectors`, tf as {term: count}."""
        fields = ["id", "source_id", "version", *fields]
        found = self.catalog.search("passages", "tf", vectors, min(limit, MAX_HITS), fields)
        rows = [self.catalog.visible(hits) for hits in found]
        for hits in rows:
            for row in hits:
                if "tf" in row:
                    row["tf"] = {int(k): float(v) for k, v in row["tf"].items()}
        return rows

    def _library_totals(self) -> tuple[int, int]:
        """(passages, tokens) over committed sources, re-read when the generation moves."""
        generation = self.catalog.generation
        if self._totals is None or self._totals[0] != generation:
            self._totals = (generation, self.catalog.totals())
        return self._totals[1]
