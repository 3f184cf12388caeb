"""Numbers a sentence states that its passage does not. The support check compares
meaning, and to sentence similarity "28.4 BLEU" and "24.8 BLEU" say the same
thing: a wrong number on the right topic passes it.

A number is compared by value, with its scale, so that a passage's "4 million
tokens" states the Korean "400만 토큰" and the Chinese "400万", "1.4T" states
"1.4 trillion" and "4096" states "4K"; a sentence's scaled number must match
the scaled value ("175억" is not "175 billion"). A rounded number is stated by
the precise one ("about 95%" by "95.3%"). Small English number words in a
passage count ("eight GPUs" states "8 GPU"), and so do counts written as words
in Korean, Chinese, Japanese and Hindi, in the sentence and the passage
("네 개의 GPU" is 4 GPUs). Digits glued to a name in the sentence ("GPT-4",
"Mamba-2", "T5", "ViT-H/14") are names, not claims; in a passage every figure counts
("LLaMA-13B" states "the 13B model"). A power of ten with a negative exponent
reads as one number in the sentence and the passage: PDF text loses the
superscript of "8 · 10⁻⁴" and writes "8 · 10−4", which is neither 10 nor 4.
A sentence that names a row of a table is held to that row (`rows_named`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import regex

from paperlens.ingest.languages import LANGUAGES

SCALES = {
    "thousand": (1e3,),
    "k": (1e3, 1024.0),  # "4K context" is 4096 tokens
    "million": (1e6,),
    "m": (1e6,),
    "billion": (1e9,),
    "b": (1e9,),
    "trillion": (1e12,),
    "t": (1e12,),
    **dict.fromkeys("万萬만", (1e4,)),
    **dict.fromkeys("亿億억", (1e8,)),
    **dict.fromkeys("兆조", (1e12,)),
}
SCIENTIFIC = r"\d+(?:\.\d+)?[eE][-+]?\d+"
# "10,000", "10.000" and "10 000" (French: a no-break space) are ten thousand.
GROUPED = r"\d{1,3}(?:[,.\u00a0\u202f]\d{3})+(?![.,]?\d)"
FIGURE = rf"{SCIENTIFIC}|{GROUPED}|\d+(?:[.,]\d+)?"
SCALE = r"[\s-]?(thousand|million|billion|trillion|[kKmMbBtT](?![\p{Latin}])|[万萬亿億兆만억조])?"
# In a sentence a figure glued to a Latin name ("GPT-4", "T5", "v2", ViT's patch
# size in "ViT-H/14") is part of the name (CJK text glues digits to its words,
# "大8倍": those count; so does a ratio, "3/4").
SENTENCE_NUMBER = regex.compile(rf"(?<![\p{{Latin}}\d.,]|\p{{Latin}}[-/])({FIGURE}){SCALE}")
PASSAGE_NUMBER = regex.compile(rf"(?<![\d.,])({FIGURE}){SCALE}")
NUMBER_NAMES = "zero one two three four five six seven eight nine ten eleven twelve"
WORDS = {word: float(n) for n, word in enumerate(NUMBER_NAMES.split())}
NUMBER_WORD = regex.compile(r"\b(" + "|".join(WORDS) + r")\b", regex.IGNORECASE)
# Counts of 2-10 written as words in the languages we answer in ("one" is often an
# article: "एक नया मॉडल", "一个"), from ingest/languages.py: Korean and CJK numerals
# before a counter (alone they are syllables of other words: 네트워크, 四角), Hindi
# ones as words.
COUNTED = [lang.count_words for lang in LANGUAGES.values() if lang.count_words]
COUNT_WORDS = {word: value for counted in COUNTED for word, value in counted.words.items()}
COUNT_WORD = regex.compile(
    "|".join(
        rf"(?<!{c.not_after})({'|'.join(c.words)})\s?(?:{c.counters})"
        if c.counters
        else rf"(?<!\S)({'|'.join(c.words)})(?!\S)"
        for c in COUNTED
    )
)
# "8 · 10−4", "3×10^-5", "10⁻⁹": the minus sign (U+2212 or superscript, or "-"
# after a caret) tells an exponent from a range ("10-4").
POWER_OF_TEN = regex.compile(
    r"(?<![\d.])(?:(\d+(?:\.\d+)?)\s?[·×x*]\s?)?10(?:\^\{?[-−]|[−⁻])\s?(\d+|[⁰¹²³⁴⁵⁶⁷⁸⁹]+)\}?"
)
SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
# "1.2e−4": PDF text writes scientific notation's minus as U+2212 too.
EXPONENT_MINUS = regex.compile(r"(?<=\d[eE])[−⁻](?=\d)")
LIST_ITEM = regex.compile(r"^\s*\d+[.)]\s", regex.MULTILINE)
# Citation markers, ranges too ("[1]", "[1, 3]", "[1-3]", "【2】").
MARKERS = regex.compile(r"[\[［【][\d\s,，、–—\-]+[\]］】]")


# A row of a table as PDF text keeps it: cells apart by tabs, the row's name first.
TABLE_ROW = regex.compile(r"^([^\t\n]*\p{L}[^\t\n]*|[^\t\n]*\d\p{L}+)\t(.*\d.*)$", regex.MULTILINE)
# A figure with no unit or name glued on: what a row of data holds and a row of
# column names ("8B  62B  540B", the sizes a results table compares) does not; those
# rows stay, whatever the sentence names.
PLAIN_FIGURE = regex.compile(r"(?<!\S)[-+−(±]?\d[\d.,]*%?\)?(?!\S)")
# A table's cells, which PDF text keeps in order but not under their column names:
# a line of tab-joined cells (ingest/pdflayout.py marks a row so), or two or more
# figures with only spaces or "±" between them (a table flattened into prose,
# "MIMIC-III 52.8 50.7 51.7").
ROW_NAME_WORDS = 4  # words before a flattened row's figures shown as its name
CELL_VALUE = r"[-+−]?\d[\d.,]*(?:%|[KMBT](?!\p{L}))?"
CELLS = regex.compile(
    rf"^[^\n]*\t[^\n]*$|(?<!\S){CELL_VALUE}(?:[ \t]+(?:±[ \t]*)?{CELL_VALUE})+(?!\S)",
    regex.MULTILINE,
)
# Words of Latin letters and digits, and runs of other letters (CJK text glues
# its particles on: "OPT-30Bの" writes "30B").
WORD = regex.compile(r"[\p{Latin}\p{N}]+|[^\s\p{P}\p{S}\p{Latin}\p{N}]+")


def rows_named(sentence: str, passage: str) -> str:
    """`passage` without the table rows of others when `sentence` names some of its
    rows ("OPT-30B" names the row "30B"): a figure of another row, right next to the
    one asked about, is the small models' most common wrong number (OPT-175B's 96
    heads given for OPT-30B's 56). A row is named when the sentence writes its name,
    or a name it starts with ("SEAL (LM+FM)" names "SEAL (LM+FM, intersect.)" too:
    a sentence may name the variant in its own words). A passage whose rows the
    sentence does not name is whole, and so is its prose."""
    rows = [row for row in TABLE_ROW.finditer(passage) if PLAIN_FIGURE.search(row[0])]
    words = _words(sentence)
    names = [_words(row[1]) for row in rows]
    written = [name for name in names if _is_row_name(name) and _writes(words, name)]
    named = {
        row.span() for row, name in zip(rows, names, strict=True) if _starts_with(name, written)
    }
    if not named or len(named) == len(rows):
        return passage
    kept, last = [], 0
    for row in rows:
        if row.span() not in named:
            kept.append(passage[last : row.start()])
            last = row.end()
    return "".join(kept) + passage[last:]


def from_cells(sentence: str, passages: Sequence[str]) -> bool:
    """Are some of `sentence`'s figures that `passages` state stated only among a
    table's cells? Which column such a figure sits in is not checked: the flattened
    text keeps a row's order, not its column names (docs/answers.md#table-figures)."""
    return set(unstated(sentence, [CELLS.sub(" ", p) for p in passages])) > set(
        unstated(sentence, passages)
    )


def cell_rows(sentence: str, passage: str) -> list[str]:
    """The rows of `passage`'s tables that state figures of `sentence` its prose does
    not, each with the words before it on its line (a flattened row's name)."""
    in_prose_not = set(unstated(sentence, [CELLS.sub(" ", passage)]))
    rows = []
    for cells in CELLS.finditer(passage):
        if in_prose_not - set(unstated(sentence, [cells[0]])):
            line_start = passage.rfind("\n", 0, cells.start()) + 1
            lead = passage[line_start : cells.start()].split()[-ROW_NAME_WORDS:]
            rows.append(" ".join([*lead, *cells[0].split()]))
    return rows


def _words(text: str) -> list[str]:
    return [w.casefold() for w in WORD.findall(text)]


def _is_row_name(name: list[str]) -> bool:
    """A name to look for: letters in it, not a lone year or count."""
    return len("".join(name)) >= 2 and any(c.isalpha() for word in name for c in word)


def _writes(words: list[str], name: list[str]) -> bool:
    n = len(name)
    return any(words[i : i + n] == name for i in range(len(words) - n + 1))


def _starts_with(name: list[str], written: list[list[str]]) -> bool:
    return any(name[: len(w)] == w for w in written)


def unstated(sentence: str, passages: Iterable[str]) -> list[str]:
    """The numbers of `sentence` (its [n] markers aside) that none of `passages`
    states; counts written as words ("네 개의 GPU") are numbers too."""
    stated: set[float] = set()
    for passage in passages:  # a passage's "[39]" cites a paper, it states no 39
        stated |= _stated(_scientific(MARKERS.sub(" ", passage)))
    text = _scientific(LIST_ITEM.sub(" ", MARKERS.sub(" ", sentence)))
    missing = [m[0].strip() for m in SENTENCE_NUMBER.finditer(text) if not _is_stated(m, stated)]
    missing += [m[0].strip() for m in COUNT_WORD.finditer(text) if _count(m) not in stated]
    return missing


def _scientific(text: str) -> str:
    """Powers of ten written out ("8 · 10−4") in scientific notation ("8e-4"), and
    its minus sign as "-" ("1.2e−4")."""
    text = EXPONENT_MINUS.sub("-", text)
    return POWER_OF_TEN.sub(
        lambda m: f" {m[1] or '1'}e-{m[2].translate(SUPERSCRIPT_DIGITS)} ", text
    )


def _is_stated(m: regex.Match, stated: set[float]) -> bool:
    """Some stated value, at the figure's scale and rounded to its decimals, is the
    figure ("95" for 95.3, "1.4조" for 1.43 trillion; "175억" is not 175 billion)."""
    figure, factors = m[1], SCALES.get((m[2] or "").lower(), (1.0,))
    exact = regex.search(r"[eE]", figure) is not None
    decimals = len(tail[1]) if (tail := regex.search(r"[.,](\d+)$", figure)) else 0
    for value in _readings(figure):
        for factor in factors:
            for s in stated:
                near = s / factor
                if abs(near - value) <= 1e-9 * value if exact else round(near, decimals) == value:
                    return True
    return False


def _stated(passage: str) -> set[float]:
    """Every value a passage states: its figures with and without their scale (a
    passage's "7B" may be a name), its number words and its counts in words."""
    values = {v for m in PASSAGE_NUMBER.finditer(passage) for v in _values(m[1], m[2])}
    values |= {WORDS[w.lower()] for w in NUMBER_WORD.findall(passage)}
    return values | {_count(m) for m in COUNT_WORD.finditer(passage)}


def _values(figure: str, scale: str | None) -> set[float]:
    """Every value the figure can mean ("1,000" is a thousand, "28,4" is 28.4), with
    its scale and without it."""
    plain = _readings(figure)
    return plain | {v * f for v in plain for f in SCALES.get((scale or "").lower(), ())}


def _readings(figure: str) -> set[float]:
    if regex.fullmatch(SCIENTIFIC, figure):
        return {float(figure)}
    if regex.fullmatch(GROUPED, figure):
        return {float(regex.sub(r"\D", "", figure))} | _decimal(figure)
    return _decimal(figure)


def _decimal(figure: str) -> set[float]:
    text = figure.replace(",", ".")
    return {float(text)} if regex.fullmatch(r"\d+(?:\.\d+)?", text) else set()


def _count(m: regex.Match) -> float:
    return COUNT_WORDS[next(g for g in m.groups() if g)]
