"""Numbers a sentence states that its passage does not. The support check compares
meaning, and to sentence similarity "28.4 BLEU" and "24.8 BLEU" say the same
thing: a wrong number on the right topic passes it.

A number is compared by value, with its scale, so that a passage's "4 million
tokens" states the Korean "400만 토큰" and the Chinese "400万", and "1.4T"
states "1.4 trillion". A number also passes when its bare figure appears in
the passage (a scale the parser does not know, "2 lakh"), small English
number words in a passage count ("eight GPUs" states "8 GPU"), and so do
counts written as words in Korean, Chinese, Japanese and Hindi, in the
sentence and the passage ("네 개의 GPU" is 4 GPUs). Digits inside names
("GPT-4", "Mamba-2", "T5") are names, not claims.
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
# Counts of 2-10 written as words in the languages we answer in ("one" is often an
# article: "एक नया मॉडल", "一个"): Korean and CJK numerals before a counter (alone
# they are syllables of other words: 네트워크, 四角), Hindi ones as words.
COUNT_WORDS = {
    **dict.fromkeys(("두", "二"), 2.0),
    **dict.fromkeys(("세", "三", "तीन"), 3.0),
    **dict.fromkeys(("네", "四", "चार"), 4.0),
    **dict.fromkeys(("다섯", "五", "पाँच", "पांच"), 5.0),
    **dict.fromkeys(("여섯", "六", "छह", "छः"), 6.0),
    **dict.fromkeys(("일곱", "七", "सात"), 7.0),
    **dict.fromkeys(("여덟", "八", "आठ"), 8.0),
    **dict.fromkeys(("아홉", "九", "नौ"), 9.0),
    **dict.fromkeys(("열", "十", "दस"), 10.0),
}
COUNT_WORD = regex.compile(
    r"(?<![\p{Hangul}])(두|세|네|다섯|여섯|일곱|여덟|아홉|열)\s?(?:개|대|가지|명|번|배|층|단계)"
    r"|(?<![一二三四五六七八九十百千])([二三四五六七八九十])\s?(?:个|個|块|塊|种|種|倍|层|層|次|つ|台|名|项|項|张|張)"
    r"|(?<!\S)(तीन|चार|पाँच|पांच|छह|छः|सात|आठ|नौ|दस)(?!\S)"
)
LIST_ITEM = regex.compile(r"^\s*\d+[.)]\s", regex.MULTILINE)


def unstated(sentence: str, passages: Iterable[str]) -> list[str]:
    """The numbers of `sentence` (its [n] markers aside) that none of `passages`
    states; counts written as words ("네 개의 GPU") are numbers too."""
    stated_values, stated_figures = set(), set()
    for passage in passages:
        values, figures = _numbers(passage)
        stated_values |= values | _counts(passage)
        stated_figures |= figures
        stated_values |= {WORDS[w.lower()] for w in NUMBER_WORD.findall(passage)}
    text = LIST_ITEM.sub(" ", MARKER.sub(" ", sentence))
    missing = []
    for m in NUMBER.finditer(text):
        values = _values(m[1], m[2])
        if not (values & stated_values or _figures(m[1]) & stated_figures):
            missing.append(m[0].strip())
    for m in COUNT_WORD.finditer(text):
        if _count(m) not in stated_values:
            missing.append(m[0].strip())
    return missing


def _counts(text: str) -> set[float]:
    return {_count(m) for m in COUNT_WORD.finditer(text)}


def _count(m: regex.Match) -> float:
    return COUNT_WORDS[next(g for g in m.groups() if g)]


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
