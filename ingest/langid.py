"""Language of a text, as an ISO 639-1 code, with lingua.

The detector is restricted to the languages of the table (ingest/languages.py)
and built once.
"""

from __future__ import annotations

import re
import threading
import unicodedata

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from paperlens.ingest.languages import LANGUAGES

# The table's languages lingua tells apart; a smaller set is faster and more
# accurate on short texts.
DETECTED = [getattr(Language, lang.name.upper()) for lang in LANGUAGES.values() if lang.detected]
# A script that only one of our languages writes decides on its own: a Hindi
# sentence full of English technical terms is still Hindi.
SCRIPT_LANGUAGE = {
    script: lang.code for lang in LANGUAGES.values() for script in lang.decisive_scripts
}

_detector: LanguageDetector | None = None
_lock = threading.Lock()


def _get_detector() -> LanguageDetector:
    global _detector
    with _lock:
        if _detector is None:
            _detector = LanguageDetectorBuilder.from_languages(*DETECTED).build()
        return _detector


def detect_language(text: str) -> str | None:
    """ISO 639-1 code ("en", "ko", ...) or None when the text is too short to tell."""
    text = text.strip()
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) < 2:
        return None
    by_script = _script_language(letters)
    if by_script:
        return by_script
    found = _get_detector().detect_language_of(text)
    return found.iso_code_639_1.name.lower() if found else None


# A title or name in brackets or quotes ("(Scaling Language Modeling with Pathways)",
# «...», „...“, 「...」) is not the language a question is asked in; an apostrophe
# inside a word ("l'article") opens no quote.
QUOTED = re.compile(
    r"\([^()]*\)|«[^»]*»|„[^“”]*[“”]|“[^”]*”|「[^」]*」|『[^』]*』"
    r"|(?<!\w)\"[^\"]*\"(?!\w)|(?<!\w)'[^']*'(?!\w)"
)
ENOUGH_LETTERS = 12  # left outside quotes to judge by them alone


def language_asked_in(question: str) -> str | None:
    """The language a question is asked in: what it says outside quoted or bracketed
    titles (an Italian question naming an English paper is Italian)."""
    asked = QUOTED.sub(" ", question)
    if sum(ch.isalpha() for ch in asked) >= ENOUGH_LETTERS:
        return detect_language(asked) or detect_language(question)
    return detect_language(question)


def _script_language(letters: list[str]) -> str | None:
    counts: dict[str, int] = {}
    for ch in letters:
        name = unicodedata.name(ch, "")
        script = name.split(" ", 1)[0]
        if script in SCRIPT_LANGUAGE:
            counts[SCRIPT_LANGUAGE[script]] = counts.get(SCRIPT_LANGUAGE[script], 0) + 1
    if not counts:
        return None
    lang, count = max(counts.items(), key=lambda item: item[1])
    # Kana mixed with kanji is Japanese; a few Hangul letters in English are not Korean.
    return lang if count >= 0.15 * len(letters) else None
