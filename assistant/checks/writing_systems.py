"""Is an answer written in its language's script? Small models drift: a Korean
answer with a kanji and a katakana letter in it, a Hindi answer in English.

Latin letters are allowed in every language (model names, formulas, terms
such as "LoRA" or "RLHF" are written that way in every digest we read).
"""

from __future__ import annotations

from collections.abc import Iterable

import regex

from paperlens.ingest.languages import LANGUAGES

LETTER = regex.compile(r"\p{L}")
# Scripts each language is written in, besides Latin.
NATIVE = {code: lang.script for code, lang in LANGUAGES.items() if lang.script}
LATIN = r"\p{Latin}"
LATIN_WORD = regex.compile(r"[\p{Latin}\d][\p{Latin}\d\-.]*")


def allowed_pattern(lang: str | None) -> regex.Pattern:
    native = NATIVE.get((lang or "en").lower())
    return regex.compile(f"{native}|{LATIN}" if native else LATIN)


def foreign_letters(text: str, lang: str | None) -> list[str]:
    """Letters of `text` that do not belong to `lang`'s scripts (or Latin)."""
    allowed = allowed_pattern(lang)
    return [ch for ch in LETTER.findall(text) if not allowed.fullmatch(ch)]


# Large-number units small models borrow from Chinese/Japanese in Korean text
# ("400万 토큰", "5.5兆의 토큰"); each has one Hangul reading, so it is replaced,
# not re-asked. Other stray letters go back to the model (assistant/repair.py).
NUMBER_UNITS = {
    code: str.maketrans(dict(lang.number_units))
    for code, lang in LANGUAGES.items()
    if lang.number_units
}
BORROWED_UNITS = "".join(sorted({u for lang in LANGUAGES.values() for u in lang.number_units}))
NUMBER_UNIT = regex.compile(rf"(?<=\d\s?)[{BORROWED_UNITS}]")


def native_number_units(text: str, lang: str | None) -> str:
    """`text` with CJK number units after a digit written in `lang`'s own script."""
    table = NUMBER_UNITS.get((lang or "").lower())
    if table is None:
        return text
    return NUMBER_UNIT.sub(lambda m: m.group().translate(table), text)


# Languages written with spaces between words, where a word never switches from
# the native script to Latin letters ("커널 네ural 네트워크" is a glitch; a Latin
# name followed by a particle, "LoRA는", is not). Japanese and Chinese run words
# together, so "本論文のTransformer" is normal there.
SPACED = {code: lang.script for code, lang in LANGUAGES.items() if lang.spaced and lang.script}


def broken_words(text: str, lang: str | None) -> list[str]:
    """Words that switch from `lang`'s own script to Latin letters mid-word."""
    native = SPACED.get((lang or "").lower())
    if native is None:
        return []
    return regex.findall(rf"\S*{native}[\p{{Latin}}]\S*", text)


# English words that are no term on their own: in a Korean, Japanese, Chinese or
# Hindi answer they mean the model slipped into English ("28.4 BLEU for German",
# "compared to之前的方法"); terms such as "constituency parsing" pass.
ENGLISH_FUNCTION_WORDS = (
    "the an of for to and or in on with by from at is are was were this that these those "
    "than compared approximately which while into between not but also its their"
)
FUNCTION_WORDS = frozenset(ENGLISH_FUNCTION_WORDS.split())
LOWER_WORD = regex.compile(r"(?<![\p{Latin}\d\-])\p{Ll}+(?![\p{Latin}\d\-])")
TITLE_BEFORE = regex.compile(r"\p{Lu}\p{Ll}+\s+$")
TITLE_AFTER = regex.compile(r"^\s+\p{Lu}\p{Ll}+")


LATIN_TOKEN = regex.compile(r"[\p{Latin}\d]+")
PREVIOUS_TOKEN = regex.compile(r"([\p{Latin}\d]+)[\s\p{P}]*$")
NEXT_TOKEN = regex.compile(r"^[\s\p{P}]*([\p{Latin}\d]+)")


def english_words(
    text: str, lang: str | None, terms: Iterable[str] = (), sources: Iterable[str] = ()
) -> list[str]:
    """English function words in a non-Latin-script answer, outside names ("Mixture
    of Experts"), the user's own words (`terms`) and phrases copied from a passage
    (`sources`: "4) aligning through model feedback, and environment feedback").

    A word counts as copied when it stands between the same two Latin words in a
    passage; "BLEU for German" next to an English passage that says "BLEU on
    English-German" does not.
    """
    if NATIVE.get((lang or "en").lower()) is None:
        return []
    used = _latin_words(terms)
    copied = {gram for source in sources for gram in _trigrams(source)}
    found = []
    for m in LOWER_WORD.finditer(text):
        word = m.group()
        if word not in FUNCTION_WORDS or word in used or _in_name(text, m):
            continue
        before = PREVIOUS_TOKEN.search(text, 0, m.start())
        after = NEXT_TOKEN.match(text[m.end() :])
        if before and after and (before[1].casefold(), word, after[1].casefold()) in copied:
            continue
        found.append(word)
    return found


def _in_name(text: str, m: regex.Match) -> bool:
    return bool(TITLE_BEFORE.search(text, 0, m.start()) and TITLE_AFTER.match(text[m.end() :]))


def _trigrams(text: str) -> set[tuple[str, ...]]:
    tokens = [t.casefold() for t in LATIN_TOKEN.findall(text)]
    return {tuple(tokens[i : i + 3]) for i in range(len(tokens) - 2)}


QUOTED = regex.compile(r'"[^"]*"|“[^”]*”|「[^」]*」|『[^』]*』|«[^»]*»|《[^》]*》')


def unquoted(text: str) -> str:
    """`text` without its quoted spans: a quoted title may be in any script."""
    return QUOTED.sub(" ", text)


def script_purity(text: str, lang: str | None) -> float:
    """Share of letters written in `lang`'s scripts or Latin (1.0 for no letters)."""
    letters = LETTER.findall(text)
    if not letters:
        return 1.0
    return 1.0 - len(foreign_letters(text, lang)) / len(letters)


def native_share(text: str, lang: str | None, terms: Iterable[str] = ()) -> float:
    """Share of letters in the language's own (non-Latin) script; 1.0 for Latin languages.

    A Hindi answer that is all English passes `script_purity` (Latin is allowed)
    but not this. Names and terms do not count as English: Latin words that
    look like names (an inner capital, all caps, a digit: BERT, LoRA, GPT-3) or
    that the user wrote in the question (`terms`). "BERT 在 GLUE 上得了 80.5 分"
    is Chinese although most of its letters are Latin.
    """
    native = NATIVE.get((lang or "en").lower())
    if native is None:
        return 1.0
    used = _latin_words(terms)
    kept = LATIN_WORD.sub(lambda m: "" if _is_term(m.group(), used) else m.group(), text)
    letters = LETTER.findall(kept)
    if not letters:
        return 1.0
    return len(regex.findall(native, kept)) / len(letters)


def _latin_words(terms: Iterable[str]) -> set[str]:
    """The Latin words the user wrote (casefolded): their own terms are no slip."""
    return {t.casefold() for term in terms for t in LATIN_WORD.findall(term)}


def _is_term(word: str, used: set[str]) -> bool:
    return (
        word.casefold() in used
        or any(ch.isdigit() for ch in word)
        or any(ch.isupper() for ch in word[1:])
    )
