"""Numbers a sentence states that its passage does not. The support check compares
meaning, and to sentence similarity "28.4 BLEU" and "24.8 BLEU" say the same
thing: a wrong number on the right topic passes it.

A number is compared by value, with its scale, so that a passage's "4 million
tokens" states the Korean "400만 토큰" and the Chinese "400万", and "1.4T"
states "1.4 trillion". A number also passes when its bare figure appears in
the passage (a scale the parser does not know, "2 lakh"), and small English
number words count ("eight GPUs" states "8 GPU"). Digits inside names ("GPT-4",
"Mamba-2", "T5") are names, not claims.
"""

from __future__ import annotations

from collections.abc import Iterable

import regex

from assistant.citations import MARKER

SCALES = {
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "b": 1e9,
    "trillion": 1e12,
    "t": 1e12,
    "万": 1e4,
    "萬": 1e4,
    "만": 1e4,
    "亿": 1e8,
    "億": 1e8,
    "억": 1e8,
    "兆": 1e12,
    "조": 1e12,
}
# A figure not glued to a Latin name ("GPT-4", "T5", "v2"; CJK text glues digits
# to its words, "大8倍"), with the scale word after it.
NUMBER = regex.compile(
    r"(?<![\p{Latin}\d.,]|\p{Latin}-)(\d+(?:[.,]\d+)*)\s?"
    r"(thousand|million|billion|trillion|[kKmMbBtT](?![\p{Latin}])|[万萬亿億兆만억조])?",
)
NUMBER_NAMES = "zero one two three four five six seven eight nine ten eleven twelve"
WORDS = {word: float(n) for n, word in enumerate(NUMBER_NAMES.split())}
NUMBER_WORD = regex.compile(r"\b(" + "|".join(WORDS) + r")\b", regex.IGNORECASE)
LIST_ITEM = regex.compile(r"^\s*\d+[.)]\s", regex.MULTILINE)


def unstated(sentence: str, passages: Iterable[str]) -> list[str]:
    """The numbers of `sentence` (its [n] markers aside) that none of `passages` states."""
    stated_values, stated_figures = set(), set()
    for passage in passages:
        values, figures = _numbers(passage)
        stated_values |= values
        stated_figures |= figures
        stated_values |= {WORDS[w.lower()] for w in NUMBER_WORD.findall(passage)}
    missing = []
    for m in NUMBER.finditer(LIST_ITEM.sub(" ", MARKER.sub(" ", sentence))):
        values = _values(m[1], m[2])
        if not (values & stated_values or _figures(m[1]) & stated_figures):
            missing.append(m[0].strip())
    return missing


def _numbers(text: str) -> tuple[set[float], set[str]]:
    values, figures = set(), set()
    for m in NUMBER.finditer(text):
        values |= _values(m[1], m[2])
        figures |= _figures(m[1])
    return values, figures


def _values(figure: str, scale: str | None) -> set[float]:
    """Every value the figure can mean: "1,000" is a thousand in English and one in
    French, "28,4" is 28.4; with its scale and without it ("7B" may be a name)."""
    readings = {figure.replace(",", ""), figure.replace(",", ".")}
    plain = {float(r) for r in readings if regex.fullmatch(r"\d+(?:\.\d+)?", r)}
    factor = SCALES.get((scale or "").lower(), 1.0)
    return {round(v * factor, 6) for v in plain} | {round(v, 6) for v in plain}


def _figures(figure: str) -> set[str]:
    return {figure.replace(",", "."), figure.replace(",", "")}
