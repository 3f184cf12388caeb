"""Is an answer written in its language's script? Small models drift: a Korean
answer with a kanji and a katakana letter in it, a Hindi answer in English.

Latin letters are allowed in every language (model names, formulas, terms
such as "LoRA" or "RLHF" are written that way in every digest we read).
"""

from __future__ import annotations

import regex

LETTER = regex.compile(r"\p{L}")
# Scripts each language is written in, besides Latin.
NATIVE = {
    "ko": r"\p{Hangul}",
    "ja": r"[\p{Han}\p{Hiragana}\p{Katakana}ー]",
    "zh": r"\p{Han}",
    "hi": r"\p{Devanagari}",
    "ru": r"\p{Cyrillic}",
    "ar": r"\p{Arabic}",
}
LATIN = r"\p{Latin}"


def allowed_pattern(lang: str | None) -> regex.Pattern:
    native = NATIVE.get((lang or "en").lower())
    return regex.compile(f"{native}|{LATIN}" if native else LATIN)


def foreign_letters(text: str, lang: str | None) -> list[str]:
    """Letters of `text` that do not belong to `lang`'s scripts (or Latin)."""
    allowed = allowed_pattern(lang)
    return [ch for ch in LETTER.findall(text) if not allowed.fullmatch(ch)]


def script_purity(text: str, lang: str | None) -> float:
    """Share of letters written in `lang`'s scripts or Latin (1.0 for no letters)."""
    letters = LETTER.findall(text)
    if not letters:
        return 1.0
    return 1.0 - len(foreign_letters(text, lang)) / len(letters)


def native_share(text: str, lang: str | None) -> float:
    """Share of letters in the language's own (non-Latin) script; 1.0 for Latin languages.

    A Hindi answer that is all English passes `script_purity` (Latin is allowed)
    but not this.
    """
    native = NATIVE.get((lang or "en").lower())
    letters = LETTER.findall(text)
    if native is None or not letters:
        return 1.0
    return len(regex.findall(native, text)) / len(letters)
