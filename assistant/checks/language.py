"""Is an answer written in the asked language? Small models drift: a Korean answer
with a kanji and a katakana letter in it, a Hindi answer in English, fluent-looking
Hindi made of non-words (docs/answers.md, "The flow", step 3).
"""

from __future__ import annotations

from collections.abc import Sequence

from paperlens.assistant.checks.citations import MARKER, without_labels
from paperlens.assistant.checks.lexicon import unknown_words
from paperlens.assistant.checks.writing_systems import (
    broken_words,
    english_words,
    foreign_letters,
    native_share,
    unquoted,
)
from paperlens.ingest.langid import detect_language
from paperlens.ingest.languages import language_name

# Below this share of its own script an answer goes to repair: Latin names and
# terms are allowed in a CJK or Hindi answer, one mostly in English is not
# (docs/answers.md, "The flow", step 3).
MIN_NATIVE_SHARE = 0.5  # a Hindi answer must be mostly Devanagari, not English


def language_problem(
    text: str, lang: str, question: str = "", sources: Sequence[str] = ()
) -> str | None:
    """Why `text` is not a proper answer in `lang`, or None when it is.

    Latin-script names and the terms of the `question` may appear in any language,
    and so may English phrases copied from the passages (`sources`).
    """
    body = MARKER.sub("", without_labels(text)).strip()
    if not body:  # "[1][2]", "**हिंदी वर्णन:**": nothing said
        return "the model wrote nothing"
    written = detect_language(body)
    if written and written != lang:
        return f"the model answered in {language_name(written)}, not {language_name(lang)}"
    stray = "".join(dict.fromkeys(foreign_letters(unquoted(body), lang)))
    if stray:  # even one: "5.5兆의 토큰" is not Korean (quoted titles may be in any script)
        return f"the model mixed other scripts ({stray}) into its {language_name(lang)} answer"
    broken = broken_words(body, lang)
    if broken:
        return f"the model wrote broken {language_name(lang)} words: {', '.join(broken[:3])}"
    english = ", ".join(dict.fromkeys(english_words(unquoted(body), lang, [question], sources)))
    if english:  # "28.4 BLEU for German": not a name, English
        return f"the model wrote English words ({english}) into its {language_name(lang)} answer"
    if native_share(body, lang, [question]) < MIN_NATIVE_SHARE:
        return f"the model wrote mostly Latin letters instead of {language_name(lang)}"
    unknown = unknown_words(body, lang, [question, *sources])
    if unknown:  # "नाइन्यूल टेस्टरिक": the right script, no words of the language
        return f"the model wrote words that are not {language_name(lang)}: {', '.join(unknown[:3])}"
    return None
