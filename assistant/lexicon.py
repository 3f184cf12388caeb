"""Are an answer's words words of its language? The bundled 1.5B writes Hindi that
looks fluent and is made of non-words ("नाइन्यूल टेस्टरिक", "प्रस्टागणे"): right
script, right numbers and terms, so the language, script and support checks
pass it. A word list of the language catches it.

Measured (README, bench/calibrate_lexicon.py): of 166 sentences of real Hindi
(a published digest, our own digest and translations) 4 have under 85% known
words (formal terms such as "पदानुक्रमिक"); of 17 garbled sentences of the
1.5B, none has 85% or more.

The lists are wordfreq's (static data, frozen in 2021: enough for a language's
common words). A word also counts as known when the question or a passage has
it: a transliterated term copied from a Hindi digest is no slip.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import regex
import wordfreq

from assistant.scripts import NATIVE

# Languages whose answers are checked, with the share of known words below which
# an answer is rejected (measured for Hindi only; see above).
KNOWN_SHARE = {"hi": 0.85}
MIN_WORDS = 8  # fewer words in the language's own script: too few to judge


def unknown_words(text: str, lang: str | None, known: Iterable[str] = ()) -> list[str]:
    """The words of `text` in `lang`'s own script that are no words of `lang`, when
    they are too many (see KNOWN_SHARE); [] when the text passes or is not checked.

    `known`: texts whose words count as known (the question, the passages).
    """
    lang = (lang or "").lower()
    threshold = KNOWN_SHARE.get(lang)
    if threshold is None:
        return []
    words = _native_words(text, lang)
    if len(words) < MIN_WORDS:
        return []
    borrowed = {w for source in known for w in _native_words(source, lang)}
    unknown = [w for w in words if w not in borrowed and not _is_word(w, lang)]
    if 1 - len(unknown) / len(words) >= threshold:
        return []
    return list(dict.fromkeys(unknown))


def _native_words(text: str, lang: str) -> list[str]:
    native = regex.compile(f"(?:{NATIVE[lang]}|\\p{{M}})+")
    return [w for w in wordfreq.tokenize(text, lang) if native.fullmatch(w)]


@cache
def _is_word(word: str, lang: str) -> bool:
    return wordfreq.zipf_frequency(word, lang) > 0
