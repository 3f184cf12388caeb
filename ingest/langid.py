"""Language of a text, as an ISO 639-1 code, with lingua.

The detector is restricted to the languages of the table (ingest/languages.py)
and built once.
"""

from __future__ import annotations

import re
import threading
import unicodedata

import stopwordsiso
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
    titles (an Italian question naming an English paper is Italian), its function
    words deciding among the languages written in Latin letters alone."""
    return _by_function_words(QUOTED.sub(" ", question), detected_outside_quotes(question))


def detected_outside_quotes(question: str) -> str | None:
    """The detector's language for what `question` says outside quoted titles (all of
    it when too little is left outside)."""
    asked = QUOTED.sub(" ", question)
    if sum(ch.isalpha() for ch in asked) >= ENOUGH_LETTERS:
        return detect_language(asked) or detect_language(question)
    return detect_language(question)


# ML questions mix in English terms: lingua reads "Quel learning rate pour PaLM ?"
# as English. Its function words (stopwords-iso lists) say French: among the
# languages written in Latin letters alone, those whose lists hold the most of the
# question's words overrule the detector unless its answer is one of them
# (measured: docs/answers.md#question-language).
FUNCTION_WORDS = {
    lang.code: frozenset(stopwordsiso.stopwords(lang.code))
    for lang in LANGUAGES.values()
    if lang.detected and lang.script is None and stopwordsiso.has_lang(lang.code)
}
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
# A name is no word of any language: "FM-index", "ViT-H/14", "BERT-Large", "PaLM"
# (a digit, a hyphen or slash inside, or a capital after the first letter).
NAME = re.compile(r"\d|\w[-/]\w|\w[A-Z]")


def _by_function_words(text: str, found: str | None) -> str | None:
    """`found`, or the language `text`'s function words say it is in."""
    if found not in FUNCTION_WORDS:
        return found
    words = [
        word.lower()
        for token in text.split()
        if not NAME.search(token)
        for word in WORD.findall(token)
    ]
    hits = {code: sum(word in stop for word in words) for code, stop in FUNCTION_WORDS.items()}
    most = max(hits.values())
    leaders = [code for code, count in hits.items() if count == most]
    if not most or found in leaders:
        return found
    if len(leaders) == 1:
        return leaders[0]
    # Words two of them share ("usa", "on"): the detector picks among those.
    confidence = {
        value.language.iso_code_639_1.name.lower(): value.value
        for value in _get_detector().compute_language_confidence_values(text)
    }
    return max(leaders, key=lambda code: confidence.get(code, 0.0))


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
