"""Is every sentence of an answer supported by the passage it cites?

Support is the embedding similarity between the sentence and the passage
(cross-lingual: a Korean sentence against a French passage). A sentence that
cites the wrong passage is re-cited to the one that supports it; a sentence
no given passage supports is removed, never shown as cited. A passage
supports a sentence only if it also states the sentence's numbers
(assistant/checks/figures.py): similarity does not see "24.8" for "28.4".
A translation is held to what its draft said the same way (`faithful`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import regex

from paperlens.assistant.answers import Citable
from paperlens.assistant.checks.citations import (
    MARKER,
    READ_THROUGH,
    cite_at_end,
    join_sentences,
    split_sentences,
)
from paperlens.assistant.checks.figures import cell_rows, from_cells, rows_named, unstated
from paperlens.ingest.languages import LANGUAGES

# What joins markers that stand alone ("[1] et [2]"), in the languages we answer in.
CONNECTORS = {"", *(word for lang in LANGUAGES.values() for word in lang.connectors)}
# A sentence about the answer or a numbered passage rather than the papers ("この回答は
# ... を明確に示しています", "Passage 1 cites ..."): small models comment on their
# own answer. Phrases of every language: such a model also copies the prompt's English.
_THIS_ANSWER = "|".join(
    regex.escape(phrase) for lang in LANGUAGES.values() for phrase in lang.this_answer
)
_PASSAGE_WORD = "|".join(
    sorted({regex.escape(lang.passage_word) for lang in LANGUAGES.values() if lang.passage_word})
)
# Topic and subject particles after a sentence's first word ("Passage는 ...",
# "구절은 ...", "パッセージは ..."): the passage as what the sentence is about.
_ABOUT = "(?:[은는이가](?!\\w)|에서(?!\\w)|[はが]|では)"
SPEAKS_OF_ITSELF = regex.compile(  # the prompt's data tag, too: "<passages>"
    rf"(?i)(?:{_THIS_ANSWER})|</?passages>"
    rf"|^[\W_]*(?:{_PASSAGE_WORD})(?:\w*\s*(?:\[\d|\d)|{_ABOUT})"
)
_NAMING = rf"(?:{_PASSAGE_WORD})\w*\s*"  # "passage ", "Passagen ", "구절에서 "
_MARKERS = rf"(?:{MARKER.pattern}\s*)+"  # "[3]", "[3][4] "
_NAMED = regex.compile(rf"(?i){_NAMING}")
# A marker goes with the space before it when it moves, and markers in brackets of
# their own with the brackets and the word that named them ("89.6% (passage [3][4])."
# kept "()" otherwise).
MOVED_MARKERS = regex.compile(rf"(?i)\s*[(（]\s*(?:{_NAMING})?{_MARKERS}[)）]|\s*{MARKER.pattern}")

# A clause at a sentence's end that only says where it is cited ("..., conforme
# citado na passagem [4].", seen in a Portuguese answer; "... (newstest2014) dans le
# passage [4].", in a French one): the marker says it. Without a comma, only a
# preposition's short words may stand before it ("described in passage [4]" keeps
# "described").
CITING_CLAUSE = regex.compile(
    rf"(?i)(?:\s*[,，、]\s*(?:[\p{{L}}\p{{M}}'’]+\s+){{0,4}}|\s+(?:[\p{{L}}\p{{M}}'’]{{1,5}}\s+){{1,2}})"
    rf"{_NAMING}({_MARKERS})(?=[.!?。！？।]?\s*$)"
)

# A marker in brackets with the word for passage ("196GB (Passage [1]).", seen in an
# English answer): the marker alone says it.
NAMED_MARKER = regex.compile(rf"(?i)\s*[(（]\s*{_NAMING}({_MARKERS})[)）]")

# A lead-in that only says where the sentence read it ("In questo passaggio, viene
# dettagliato che ... 118 layer [1].", "Dans ce passage, ...", "이 구절에서, ...",
# "このパッセージでは、..."), or a label of one word and its marker ("Passeggio [4]:
# Questo codice ...", a mistranslated "Passage [4]:" in an Italian answer): the
# marker says it; the rest of the sentence is the claim, and keeps the marker.
LEAD_IN = regex.compile(
    rf"(?i)^([\W_]*)(?:(?:[\p{{L}}\p{{M}}']+\s+|[\p{{Hiragana}}\p{{Han}}]+){{0,2}}{_NAMING}[,，、]"
    rf"|[\p{{L}}\p{{M}}]+\s*({_MARKERS})[:：])\s*"
)

Similarity = Callable[[list[str], Sequence[Citable]], np.ndarray]  # -> sentences x passages
SentenceSimilarity = Callable[[list[str], list[str]], np.ndarray]  # -> sentences x sentences


@dataclass
class SupportedSentences:
    """A text cut to the sentences a passage supports, and what was cut."""

    text: str
    sentences: int  # sentences with content the model wrote
    supported: int  # kept: supported by the passage they now cite
    recited: int  # kept after moving the marker to the passage that supports them
    dropped: list[str]  # removed: no given passage supports them
    # passages ([n]) a kept sentence's figures were found in only among a table's
    # cells, with the rows that state them
    from_cells: dict[int, list[str]] = field(default_factory=dict)


class SupportChecker:
    """Keeps the sentences a given passage supports, each citing that passage, and
    the sentences of a translation that say what the translated draft said."""

    def __init__(
        self,
        similarity: Similarity,
        threshold: float,
        *,
        sentence_similarity: SentenceSimilarity | None = None,
        fidelity_threshold: float = 0.78,  # Settings.fidelity_threshold, measured
    ) -> None:
        self.similarity = similarity
        self.threshold = threshold
        self.sentence_similarity = sentence_similarity
        self.fidelity_threshold = fidelity_threshold

    def faithful(self, translation: str, draft: str) -> tuple[str, list[str]]:
        """(the translation's sentences that match a draft sentence, the dropped ones).

        The support check alone lets a garbled translation through: a sentence
        that keeps the paper's terms ("Transformer architecture ... recurrent")
        but invents the rest still resembles the passage. Compared with the
        draft sentence it translates, it does not (faithful >= 0.80, garbled
        <= 0.67: docs/answers.md#thresholds). Sentences are matched by
        similarity, not position: a translation may split or merge sentences.
        A translated sentence must also keep the draft's numbers: similarity
        does not see 28.4 become 24.8.
        """
        pieces = split_sentences(translation)
        content = [_bare(p) for p in pieces if has_content(p)]
        sources = [_bare(p) for p in split_sentences(draft) if has_content(p)]
        if self.sentence_similarity is None or not content or not sources:
            return translation, []
        faithful = iter(self._faithful_sentences(content, sources))
        kept, dropped = [], []
        for piece in pieces:
            if not has_content(piece) or (next(faithful) and not unstated(piece, [draft])):
                kept.append(piece.strip())
            else:
                dropped.append(piece.strip())
        return join_sentences(kept, translation), dropped

    def closeness(self, translation: str, source: str) -> float | None:
        """How near a whole translation comes to its source (None without the model):
        a model that cannot write a language stays far below the threshold
        (garbled Hindi: 0.50-0.73) even when the words fail other checks
        (docs/answers.md#thresholds)."""
        if self.sentence_similarity is None or not has_content(translation):
            return None
        return float(self.sentence_similarity([_bare(translation)], [_bare(source)])[0, 0])

    def _faithful_sentences(self, content: list[str], sources: list[str]) -> list[bool]:
        """Which translated sentences say what some draft sentence (or two) said.

        A sentence the translation split in two matches its source only when read
        with its neighbour; it passes that way if adding it brings the neighbour
        closer to the source than it is alone (a garbled sentence next to a good one
        does not).
        """
        n, t = len(content), self.fidelity_threshold
        joined = [f"{content[i]} {content[i + 1]}" for i in range(n - 1)]
        merged = [f"{sources[i]} {sources[i + 1]}" for i in range(len(sources) - 1)]
        best = self.sentence_similarity(content + joined, sources + merged).max(axis=1)
        alone, pair = best[:n], best[n:]

        def with_neighbour(i: int, j: int) -> bool:  # pair index i, neighbour j
            return bool(pair[i] >= t and pair[i] > alone[j])

        return [
            bool(alone[i] >= t)
            or (i > 0 and with_neighbour(i - 1, i - 1))
            or (i < n - 1 and with_neighbour(i, i + 1))
            for i in range(n)
        ]

    def check(self, text: str, passages: Sequence[Citable]) -> SupportedSentences:
        pieces = [_without_naming(p) for p in without_repeats(split_sentences(text))]
        content = [p for p in pieces if has_content(p)]
        if not passages or not (content or any(map(_claims_figures, pieces))):
            return SupportedSentences(text, 0, 0, 0, [])
        scores = self.similarity([_bare(p) for p in content], passages) if content else []
        kept, supported, recited, dropped, figures = [], 0, 0, [], 0
        cells: dict[int, list[str]] = {}
        rows = iter(scores)
        for piece in pieces:
            if not has_content(piece):
                if _cites_nothing(piece):
                    continue
                if not _claims_figures(piece):  # nothing to check
                    kept.append(piece)
                    continue
                # Too short for similarity ("V = 50277 [1]"), but a figure is a claim:
                # a passage supports it by stating its figures.
                figures += 1
                row = np.ones(len(passages))
            else:
                row = next(rows)
            if _is_question(piece) or SPEAKS_OF_ITSELF.search(piece):
                dropped.append(piece.strip())  # an echo of the question, or a comment
                continue
            cited = [n for n in _markers(piece) if 1 <= n <= len(passages)]
            if (
                cited
                and max(row[n - 1] for n in cited) >= self.threshold
                and _states_its_numbers(piece, [passages[n - 1] for n in cited])
            ):
                kept.append(piece)
                supported += 1
                _read_from_cells(piece, {n: passages[n - 1] for n in cited}, cells)
                continue
            best = next(
                (
                    j
                    for j in np.argsort(-row)
                    if row[j] >= self.threshold and _states_its_numbers(piece, [passages[j]])
                ),
                None,
            )
            if best is not None:
                kept.append(_recite(piece, int(best) + 1))
                supported += 1
                recited += 1
                _read_from_cells(piece, {int(best) + 1: passages[best]}, cells)
            else:
                dropped.append(piece.strip())
        cleaned = join_sentences([p.strip() for p in kept], text)
        in_order = dict(sorted(cells.items()))
        return SupportedSentences(
            cleaned, len(content) + figures, supported, recited, dropped, in_order
        )


def _without_naming(piece: str) -> str:
    """`piece` without words that only name the passage it cites: a clause at its end,
    a bracket around its marker, a lead-in (its marker says it)."""
    piece = NAMED_MARKER.sub(_marker_only, CITING_CLAUSE.sub(_marker_only, piece))
    match = LEAD_IN.match(piece)
    rest = piece[match.end() :] if match else ""
    if not has_content(rest) or SPEAKS_OF_ITSELF.search(piece):
        return piece  # nothing left to say, or a comment the check drops whole
    if match[2] and not MARKER.search(rest):
        rest = cite_at_end(rest, match[2].strip())
    return match[1] + rest[:1].upper() + rest[1:]


def _cites_nothing(piece: str) -> bool:
    """Markers alone ("[1][2]", "[1] et [2]", "Passage [1]") cite no claim."""
    words = _NAMED.sub("", MARKER.sub("", piece))
    return words.strip(" .,。、:").casefold() in CONNECTORS


def _marker_only(match: regex.Match) -> str:
    return " " + match[1].strip()


def _states_its_numbers(piece: str, passages: Sequence[Citable]) -> bool:
    """A passage supports a sentence only if it states the sentence's numbers: to
    sentence similarity "28.4 BLEU" and "24.8 BLEU" say the same."""
    return not unstated(piece, [_as_checked(piece, h) for h in passages])


def _as_checked(piece: str, passage: Citable) -> str:
    """The text a passage states `piece`'s figures in: its title, and its prose and
    table rows without the rows of others when `piece` names some (`rows_named`)."""
    return f"{passage.title}\n{rows_named(piece, passage.passage)}"


def _read_from_cells(
    piece: str, supporting: dict[int, Citable], found: dict[int, list[str]]
) -> None:
    """Add to `found` the passages ([n]) whose table rows hold figures of `piece` that
    no prose of the supporting passages states (the checks cannot tell the column)."""
    texts = {n: _as_checked(piece, h) for n, h in supporting.items()}
    if not from_cells(piece, list(texts.values())):
        return
    for n, text in texts.items():
        if from_cells(piece, [text]):
            rows = found.setdefault(n, [])
            rows.extend(row for row in cell_rows(piece, text) if row not in rows)


def _claims_figures(piece: str) -> bool:
    """Does `piece` state a figure (a number that is not a name's, a marker or a list's)?"""
    return bool(unstated(piece, []))


def has_content(piece: str) -> bool:
    """A sentence worth checking: more than a marker or a few characters."""
    return len(_bare(piece)) >= 12


def _bare(piece: str) -> str:
    return MARKER.sub("", piece).strip()


def without_repeats(pieces: list[str]) -> list[str]:
    """Each sentence once: small models loop, writing a copied sentence again and again."""
    seen: set[str] = set()
    kept = []
    for piece in pieces:
        key = _repeat_key(piece)
        if has_content(piece) and key in seen:
            continue
        seen.add(key)
        kept.append(piece)
    return kept


def _repeat_key(piece: str) -> str:
    """What a sentence says, whatever its markers, spacing and punctuation."""
    return _NOT_A_LETTER.sub("", MARKER.sub("", piece)).casefold()


_NOT_A_LETTER = regex.compile(r"[^\p{L}\p{M}\p{N}]+")


def _is_question(piece: str) -> bool:
    return _bare(piece).endswith(("?", "？"))


def _markers(piece: str) -> list[int]:
    return [int(n) for m in MARKER.finditer(piece) for n in re.split(r"\D+", m[1]) if n]


def _recite(piece: str, n: int) -> str:
    """`piece` citing passage `n` instead: a marker the sentence reads through takes
    the new number where it stands, other markers go and it is cited at its end."""
    marker = f"[{n}]"
    through = READ_THROUGH.search(piece)
    if through is None:
        return cite_at_end(MOVED_MARKERS.sub("", piece), marker)
    before, after = piece[: through.start()], piece[through.end() :]
    return MOVED_MARKERS.sub("", before) + marker + MOVED_MARKERS.sub("", after)
