"""BM25 over passages (bm25s), with a tokenizer that works across scripts.

Queries and papers in different languages still share technical terms,
names and acronyms ("LoRA", "RLHF", "HumanEval", "7B"); BM25 catches those
exact matches that dense vectors blur. Tokenizing:
- Latin, Cyrillic, Devanagari...: words of letters, marks and digits (marks
  matter: Devanagari vowel signs are combining marks, not letters);
- Chinese, Japanese and Korean: overlapping character bigrams, the standard
  dictionary-free way to index scripts written without (or with few) spaces.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

import bm25s
import numpy as np
import regex

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


def tokenize(text: str) -> list[str]:
    """Lowercased tokens: words for spaced scripts, bigrams for CJK runs."""
    text = unicodedata.normalize("NFKC", text).casefold()
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


class LexicalIndex:
    """An in-memory BM25 index over (passage id, text) pairs."""

    def __init__(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        self.ids = np.asarray(ids, dtype=np.int64)
        self._bm25 = bm25s.BM25()
        corpus = [tokenize(t) or ["<empty>"] for t in texts]
        if corpus:
            self._bm25.index(corpus, show_progress=False)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k passage ids and BM25 scores (only passages sharing a token)."""
        if not len(self.ids):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        tokens = [t for t in tokenize(query) if t in self._bm25.vocab_dict]
        if not tokens:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        docs, scores = self._bm25.retrieve(
            [tokens], k=min(k, len(self.ids)), show_progress=False, n_threads=1
        )
        docs, scores = docs[0], scores[0]
        keep = scores > 0
        return self.ids[docs[keep]], scores[keep]
