"""Citation markers: keep only [n] that refer to a passage the model was given."""

from __future__ import annotations

import re
from collections.abc import Callable

# [1], [1, 2], [1][2], full-width ［1］ and 【1】
MARKER = re.compile(r"[\[［【]\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*[\]］】]")


def check_citations(answer: str, n_passages: int) -> tuple[str, list[int], int]:
    """(answer with invalid markers removed, cited passage numbers, markers removed)."""
    cited: set[int] = set()
    removed = 0

    def keep_valid(match: re.Match) -> str:
        nonlocal removed
        numbers = [int(n) for n in re.split(r"\s*[,，、]\s*", match[1])]
        valid = [n for n in numbers if 1 <= n <= n_passages]
        removed += len(numbers) - len(valid)
        cited.update(valid)
        return "".join(f"[{n}]" for n in valid)

    cleaned = MARKER.sub(keep_valid, answer)
    cleaned = re.sub(r"[ \t]+([.,;:。、])", r"\1", cleaned)  # no space left before punctuation
    return cleaned, sorted(cited), removed


# Markdown labels small models put before or between parts of an answer ("**日本語
# での要約:**", "### Summary"): layout, not claims. Only a heading, a line that is
# a bold label alone, or a bold label ending in a colon that opens the answer; a
# bold term inside a line ("- **Llama 2 70B**: 68.9 on MMLU") is content.
LABEL = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]+[^\n]{1,60}|\*\*[^*\n]{1,40}\*\*[ \t]*[:：]?)[ \t]*(?:\n|$)"
    r"|\A(?:\s*\*\*[^*\n]{1,40}?[ \t]*[:：]\*\*[ \t]*)+",
    re.MULTILINE,
)


def without_labels(text: str) -> str:
    """`text` without Markdown headings and label lines (see LABEL)."""
    return LABEL.sub("", text).strip()


# After final punctuation, or at a line break (a line of markers, a list item).
SENTENCE_END = re.compile(r"(?<=[.!?。！？।])\s+|(?<=[。！？])|\s*\n\s*")
SENTENCE_BODY = re.compile(r"(.*?)([.!?。！？।]?)\s*$", re.S)  # (body, final punctuation)


BREAK = re.compile(f"({SENTENCE_END.pattern})")  # the same, kept by re.split


def split_sentences(text: str) -> list[str]:
    """The sentences of `text` (lines of markers and list items count as sentences)."""
    return [piece for piece in SENTENCE_END.split(text) if piece and piece.strip()]


# A sentence that ended: final punctuation or a closing marker, then at most closing
# quotes, brackets or Markdown emphasis.
ENDED = re.compile(r"(?:[.!?。！？।]|[\]］】])[\s\"'’”」』)）*_]*$")


def finished(text: str, stop_reason: str | None) -> str:
    """`text` as far as the model finished it: when it was cut at its token limit
    (`stop_reason` "length"), without the sentence it was writing ("Therefore,
    ViT-L/16 has 6 of"), a claim it never made."""
    if stop_reason != "length" or not (pieces := split_sentences(text)):
        return text
    if ENDED.search(pieces[-1]):
        return text
    body = text.rstrip()
    return body[: body.rfind(pieces[-1].strip())].rstrip()


def cite_at_end(sentence: str, marker: str) -> str:
    """`sentence` with `marker` before its final punctuation ("X [2]." / "X[2]。")."""
    body, end = SENTENCE_BODY.match(sentence.rstrip()).groups()
    space = "" if end in ("。", "！", "？") else " "
    return f"{body.rstrip()}{space}{marker}{end}"


def join_sentences(pieces: list[str], text: str) -> str:
    """Sentences back into one text: no spaces between them in ja/zh prose."""
    joiner = "" if re.search(r"[。！？]", text) else " "
    return joiner.join(pieces).strip()


LEADING_MARKERS = re.compile(r"^\s*((?:\[\d+\]\s*)+)(.+?)\s*([.!?。！？।]?)\s*$", re.S)
# A marker the sentence reads through: a Korean or Japanese particle right after it
# ("[3]에 따르면 ...", "[3]によると ..."), or a comma ("according to [3], ...").
# It is part of the sentence, not a citation to move.
READ_THROUGH = re.compile(MARKER.pattern + r"(?=[\uac00-\ud7a3\u3040-\u309f,，、])")


def each_sentence(text: str, change: Callable[[str], str]) -> str:
    """`text` with each sentence replaced by `change(sentence)`, the breaks between
    sentences (spaces, line breaks) kept as they were."""
    parts = BREAK.split(text)  # sentence, break, sentence, break, ...
    parts[::2] = [change(piece) if piece else piece for piece in parts[::2]]
    return "".join(parts).strip()


def markers_to_sentence_ends(answer: str) -> str:
    """Move markers a sentence starts with to its end: "[1][2] X." -> "X [1][2]."

    Small models often put the citation first; a reader expects it after the claim.
    """

    def move(sentence: str) -> str:
        match = LEADING_MARKERS.match(sentence)
        read_through = READ_THROUGH.match(sentence.lstrip())
        if match and match[2].strip() and not MARKER.search(match[2]) and not read_through:
            markers, body, end = re.sub(r"\s+", "", match[1]), match[2], match[3]
            space = "" if re.search(r"[\u3000-\u9fff]$", body) else " "  # none in ja/zh
            sentence = f"{body}{space}{markers}{end}"
        return sentence

    return each_sentence(answer, move)


def attribute_sentences(
    answer: str, passages: list[str], *, min_overlap: float = 0.3
) -> tuple[str, int]:
    """Add [n] to sentences the model left uncited, when one passage clearly holds them.

    Small local models often restate a passage without citing it. A sentence
    whose character trigrams are mostly found in one passage is tied to that
    passage; sentences that match none stay uncited (they are the model's own).
    Returns the answer and the number of markers added.
    """
    grams = [_trigrams(p) for p in passages]
    added = 0

    def attribute(sentence: str) -> str:
        nonlocal added
        own = _trigrams(sentence)
        if MARKER.search(sentence) or len(own) < 4:
            return sentence
        scores = [len(own & g) / len(own) for g in grams]
        best = max(range(len(scores)), key=scores.__getitem__, default=None)
        if best is None or scores[best] < min_overlap:
            return sentence
        added += 1
        return cite_at_end(sentence, f"[{best + 1}]")

    return each_sentence(answer, attribute), added


def _trigrams(text: str) -> set[str]:
    flat = re.sub(r"\s+", " ", MARKER.sub("", text.casefold())).strip()
    return {flat[i : i + 3] for i in range(len(flat) - 2)}
