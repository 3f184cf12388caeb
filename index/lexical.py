"""BM25 over passages in the catalog (SQLite FTS5), with a tokenizer that works across scripts.

Queries and papers in different languages still share technical terms,
names and acronyms ("LoRA", "RLHF", "HumanEval", "7B"); BM25 catches those
exact matches that dense vectors blur. Tokenizing:
- Latin, Cyrillic, Devanagari...: words of letters, marks and digits (marks
  matter: Devanagari vowel signs are combining marks, not letters);
- Chinese, Japanese and Korean: overlapping character bigrams, the standard
  dictionary-free way to index scripts written without (or with few) spaces.

Why FTS5 holds pre-tokenized text: the postings then live in the catalog,
updated in the same transaction as the passages (incremental, crash-safe, no
rebuild on open), while tokenizing stays ours. FTS5's whitespace-like
`unicode61` tokenizer only splits the space-joined tokens back apart.

Why scoring is done here rather than by FTS5's bm25(): FTS5 scores every
passage containing any query term, so one common term ("models") costs a
scan of a third of a 1M-passage library (~250 ms). Candidates come from the
query's rarest terms (a bounded number of postings), then every candidate is
scored with all query terms by BM25 (the Lucene variant bm25s used), from
document frequencies kept in `lexical_terms`. A passage matching only very
common terms is missed; its score would be low anyway.
"""

from __future__ import annotations

import math
import sqlite3
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable

import numpy as np
import regex

from paperlens.index.sqlite_db import chunks

CJK_RUN = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}ー\p{Hangul}]+")
WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")

# Function words of the Latin-script languages the dev queries use; everything
# else is left to BM25's IDF.
STOPWORDS = frozenset(
    " ".join(
        [
            "a an and are as at be by for from has in is it its of on or that the this to was",
            "were with without which who how what using use based into over via their than can",
            "le la les un une des du de d l et en à au aux pour par sur avec sans dans qui que est",
            "der die das ein eine und von mit für auf im zu den dem des ist ohne",
            "el los las una unos y con para por sin del al se es",
        ]
    ).split()
)


def fold(text: str) -> str:
    """Text as tokens are taken from it: NFKC-normalized and case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def tokenize(text: str) -> list[str]:
    """Lowercased tokens: words for spaced scripts, bigrams for CJK runs."""
    text = fold(text)
    tokens: list[str] = []
    last = 0
    for match in CJK_RUN.finditer(text):
        tokens.extend(_words(text[last : match.start()]))
        tokens.extend(_bigrams(match.group()))
        last = match.end()
    tokens.extend(_words(text[last:]))
    return tokens


def _words(text: str) -> Iterable[str]:
    for word in WORD.findall(text):
        if word not in STOPWORDS and (len(word) > 1 or word.isdigit()):
            yield word


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS lexical_fts USING fts5(
    terms, tokenize = "unicode61 remove_diacritics 0 categories 'L* M* N* Co'"
);
CREATE TABLE IF NOT EXISTS lexical_terms (term TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lexical_stats (
    id INTEGER PRIMARY KEY CHECK (id = 1), docs INTEGER NOT NULL, tokens INTEGER NOT NULL
);
INSERT OR IGNORE INTO lexical_stats(id, docs, tokens) VALUES (1, 0, 0);
"""

K1, B = 1.5, 0.75  # bm25s' defaults, which the dev-query figures were tuned with
# FTS5 evaluates bm25() for every posting it matches (~10 us each on a busy core):
# candidate generation reads at most about this many postings...
POSTINGS_BUDGET = 5_000
CANDIDATE_FLOOR = 400  # ...and this many candidates (at least k) are rescored with all terms


def add_passages(db: sqlite3.Connection, rows: Iterable[tuple[int, str]]) -> int:
    """Index (passage id, text) pairs inside the caller's transaction."""
    df: Counter[str] = Counter()
    docs = tokens = 0
    fts_rows = []
    for pid, text in rows:
        terms = tokenize(text)
        fts_rows.append((int(pid), " ".join(terms)))
        df.update(set(terms))
        docs += 1
        tokens += len(terms)
    db.executemany("INSERT INTO lexical_fts(rowid, terms) VALUES (?, ?)", fts_rows)
    _shift(db, df, docs, tokens, +1)
    return docs


def remove_passages(db: sqlite3.Connection, ids: Iterable[int]) -> None:
    """Unindex passages inside the caller's transaction (ids not indexed are ignored)."""
    ids = [int(i) for i in ids]
    df: Counter[str] = Counter()
    docs = tokens = 0
    for chunk, marks in chunks(ids):
        for (terms,) in db.execute(
            f"SELECT terms FROM lexical_fts WHERE rowid IN ({marks})", chunk
        ):
            words = terms.split()
            df.update(set(words))
            docs += 1
            tokens += len(words)
        db.execute(f"DELETE FROM lexical_fts WHERE rowid IN ({marks})", chunk)
    _shift(db, df, docs, tokens, -1)


def _shift(db: sqlite3.Connection, df: Counter, docs: int, tokens: int, sign: int) -> None:
    db.executemany(
        "INSERT INTO lexical_terms(term, df) VALUES (?, ?) "
        "ON CONFLICT(term) DO UPDATE SET df = df + excluded.df",
        [(term, sign * n) for term, n in df.items()],
    )
    if sign < 0:
        db.execute("DELETE FROM lexical_terms WHERE df <= 0")
    db.execute(
        "UPDATE lexical_stats SET docs = docs + ?, tokens = tokens + ? WHERE id = 1",
        (sign * docs, sign * tokens),
    )


class LexicalIndex:
    """BM25 over the catalog's `lexical_fts` table; reads through `connect()`."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect

    def __len__(self) -> int:
        return int(self._connect().execute("SELECT docs FROM lexical_stats").fetchone()[0])

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k passage ids and BM25 scores (only passages sharing a token)."""
        db = self._connect()
        docs, total = db.execute("SELECT docs, tokens FROM lexical_stats").fetchone()
        terms = dict.fromkeys(tokenize(query))
        if not docs or not terms or k <= 0:
            return _empty()
        marks = ",".join("?" * len(terms))
        df = dict(
            db.execute(f"SELECT term, df FROM lexical_terms WHERE term IN ({marks})", list(terms))
        )
        if not df:
            return _empty()
        candidates = self._candidates(db, df, max(k, CANDIDATE_FLOOR))
        idf = {t: inverse_frequency(docs, n) for t, n in df.items()}
        avgdl = total / docs
        scored = []
        for pid, text in candidates:
            words = text.split()
            norm = length_norm(len(words), avgdl)
            score = 0.0
            for term, weight in idf.items():
                tf = words.count(term)  # C-speed; a Counter per candidate costs 3x more
                if tf:
                    score += weight * tf / (tf + norm)
            scored.append((score, pid))
        return best(scored, k)

    @staticmethod
    def _candidates(db: sqlite3.Connection, df: dict[str, int], limit: int) -> list:
        """Passages ranked by FTS5 on the rarest query terms, within the postings budget."""
        chosen, postings = [], 0
        for term in sorted(df, key=df.get):
            if chosen and postings + df[term] > POSTINGS_BUDGET:
                break
            chosen.append(term)
            postings += df[term]
        match = " OR ".join(f'"{term}"' for term in chosen)
        return db.execute(
            "SELECT rowid, terms FROM lexical_fts WHERE lexical_fts MATCH ? ORDER BY rank LIMIT ?",
            (match, limit),
        ).fetchall()


def inverse_frequency(docs: int, df: int) -> float:
    """BM25's IDF of a term in `df` of `docs` passages (Lucene's, never negative)."""
    return math.log(1 + (docs - df + 0.5) / (df + 0.5))


def length_norm(length: int, avgdl: float) -> float:
    """The `K1 * (1 - B + B * dl / avgdl)` of BM25's term saturation."""
    return K1 * (1 - B + B * length / avgdl)


def best(scored: list[tuple[float, int]], k: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids, scores) of the k best positive (score, passage id) pairs; ties by id."""
    scored = sorted(scored, key=lambda item: (-item[0], item[1]))
    scored = [s for s in scored[:k] if s[0] > 0]
    return (
        np.array([pid for _, pid in scored], dtype=np.int64),
        np.array([score for score, _ in scored], dtype=np.float32),
    )


def _empty() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
