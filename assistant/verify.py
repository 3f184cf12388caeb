"""Checks that make a small model's answer trustworthy, or reject it.

- `language_problem`: the answer is in another language than asked, or mixes
  scripts (a Korean answer with kanji and katakana in it).
- `SupportChecker`: every sentence must be supported by the passage it cites,
  measured as the embedding similarity between the sentence and the passage
  (cross-lingual: a Korean sentence against a French passage). A sentence that
  cites the wrong passage is re-cited to the one that supports it; a sentence
  no given passage supports is removed, never shown as cited.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.citations import MARKER, SENTENCE_END, cite_at_end, join_sentences
from assistant.prompts import language_name
from assistant.scripts import native_share, script_purity
from index.hits import Hit
from ingest.langid import detect_language

# Measured on the answer eval (see README): below these an answer is re-asked.
MIN_SCRIPT_PURITY = 0.98
MIN_NATIVE_SHARE = 0.5  # a Hindi answer must be mostly Devanagari, not English

Similarity = Callable[[list[str], Sequence[Hit]], np.ndarray]  # -> sentences x passages


def language_problem(text: str, lang: str, question: str = "") -> str | None:
    """Why `text` is not a proper answer in `lang`, or None when it is.

    Latin-script names and the terms of the `question` may appear in any language.
    """
    body = MARKER.sub("", text).strip()
    if not body:
        return "the model wrote nothing"
    written = detect_language(body)
    if written and written != lang:
        return f"the model answered in {language_name(written)}, not {language_name(lang)}"
    if script_purity(body, lang) < MIN_SCRIPT_PURITY:
        return f"the model mixed other scripts into its {language_name(lang)} answer"
    if native_share(body, lang, [question]) < MIN_NATIVE_SHARE:
        return f"the model wrote mostly Latin letters instead of {language_name(lang)}"
    return None


@dataclass
class Checked:
    text: str
    sentences: int  # sentences with content the model wrote
    supported: int  # kept: supported by the passage they now cite
    recited: int  # kept after moving the marker to the passage that supports them
    dropped: list[str]  # removed: no given passage supports them


class SupportChecker:
    """Keeps the sentences a given passage supports, each citing that passage."""

    def __init__(self, similarity: Similarity, threshold: float) -> None:
        self.similarity = similarity
        self.threshold = threshold

    def check(self, text: str, given: Sequence[Hit]) -> Checked:
        pieces = [p for p in SENTENCE_END.split(text) if p and p.strip()]
        content = [p for p in pieces if _has_content(p)]
        if not content or not given:
            return Checked(text, 0, 0, 0, [])
        scores = self.similarity([MARKER.sub("", p).strip() for p in content], given)
        kept, supported, recited, dropped = [], 0, 0, []
        rows = iter(scores)
        for piece in pieces:
            if not _has_content(piece):
                if not MARKER.sub("", piece).strip(" .。"):
                    continue  # markers after the last sentence cite no claim
                kept.append(piece)
                continue
            row = next(rows)
            if _is_question(piece):  # small models echo the question; it answers nothing
                dropped.append(piece.strip())
                continue
            cited = [n for n in _markers(piece) if 1 <= n <= len(given)]
            if cited and max(row[n - 1] for n in cited) >= self.threshold:
                kept.append(piece)
                supported += 1
                continue
            best = int(np.argmax(row))
            if row[best] >= self.threshold:
                kept.append(_recite(piece, best + 1))
                supported += 1
                recited += 1
            else:
                dropped.append(piece.strip())
        cleaned = join_sentences([p.strip() for p in kept], text)
        return Checked(cleaned, len(content), supported, recited, dropped)


def _has_content(piece: str) -> bool:
    """A sentence worth checking: more than a marker or a few characters."""
    return len(MARKER.sub("", piece).strip()) >= 12


def _is_question(piece: str) -> bool:
    return MARKER.sub("", piece).strip().endswith(("?", "？"))


def _markers(piece: str) -> list[int]:
    return [int(n) for m in MARKER.finditer(piece) for n in re.split(r"\D+", m[1]) if n]


def _recite(piece: str, n: int) -> str:
    return cite_at_end(MARKER.sub("", piece), f"[{n}]")
