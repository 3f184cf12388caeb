"""Are an answer's words words of its language? A small generator can write Hindi that
looks fluent and is made of non-words ("नाइन्यूल टेस्टरिक", "प्रस्टागणे"): right
script, right numbers and terms, so the language, script and support checks
pass it. A word list of the language catches it.

Measured by bench/calibrate_lexicon.py (docs/answers.md#thresholds): of 178 sentences of real Hindi
(a published digest, our own digest, translations and technical sentences) 3
have under 85% known words (formal terms such as "पदानुक्रमिक"); of 17 garbled
sentences of the bundled model, none has 85% or more.

The lists are wordfreq's (static data, frozen in 2021: enough for a language's
common words), with a glossary of machine-learning terms as Hindi writes them
("एन्कोडर", "अटेंशन"), which the list lacks. A word also counts as known when
the question or a passage has it: a term copied from a Hindi digest is no slip.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import NamedTuple
from unicodedata import normalize

import regex
import wordfreq

from paperlens.assistant.checks.writing_systems import NATIVE
from paperlens.ingest.languages import LANGUAGES

# Machine-learning terms as Hindi writes them, in the usual spellings: the word
# list has few of them ("एन्कोडर", "अटेंशन") and a fluent answer is full of them.
HINDI_GLOSSARY = """
    अटेंशन एटेंशन एन्कोडर एनकोडर एन्कोडिंग एनकोडिंग डिकोडर डीकोडर डिकोडिंग ट्रांसफॉर्मर
    ट्रांसफ़ॉर्मर ट्रांसफार्मर न्यूरल नेटवर्क रिकरेंट रिकरेंस कन्वोल्यूशन कन्वोल्यूशनल
    मैकेनिज्म मैकेनिज़्म मैकेनिज़म आर्किटेक्चर टोकन टोकनाइज़र मॉडल मॉडलिंग पैरामीटर लेयर
    हेड सेल्फ सीक्वेंस वेक्टर मैट्रिक्स एम्बेडिंग एंबेडिंग ग्रेडिएंट प्रॉम्प्ट प्रॉम्प्टिंग
    प्रीट्रेनिंग प्रीट्रेन्ड प्रीट्रेंड ट्रेनिंग ट्यूनिंग फाइन फ़ाइन इन्फ़रेंस इन्फरेंस इनफरेंस
    बैच लॉस ऑप्टिमाइज़र ऑप्टिमाइजर एल्गोरिदम क्वेरी रिट्रीवल रिट्रीवर कैश मेमोरी बेसलाइन
    बेंचमार्क डेटासेट डेटा स्कोर स्केलिंग रीइनफोर्समेंट रिवॉर्ड पॉलिसी अलाइनमेंट एजेंट
    फीडबैक जीपीयू लेटेंसी थ्रूपुट कॉन्टेक्स्ट कांटेक्स्ट सैंपलिंग क्वांटाइजेशन
    क्वांटाइज़ेशन डिस्टिलेशन कंप्यूट इवैल्यूएशन शोधपत्र डिफ्यूजन डिफ़्यूज़न मल्टीमॉडल
    मल्टीलिंगुअल शॉट इंस्ट्रक्शन रीज़निंग रीजनिंग हैलुसिनेशन स्पार्स ऑटोएन्कोडर
    एक्सपर्ट राउटिंग राउटर क्लासिफिकेशन ओवरफिटिंग ड्रॉपआउट नॉर्मलाइजेशन नॉर्मलाइज़ेशन
    एक्टिवेशन सॉफ्टमैक्स पर्प्लेक्सिटी एक्यूरेसी पाइपलाइन विंडो चेकपॉइंट ऑटोरिग्रेसिव
"""
HINDI_TERMS = frozenset(normalize("NFC", HINDI_GLOSSARY).split())  # as tokenize() writes them
# Plural and oblique endings of a borrowed term ("टोकनों", "हेड्स").
TERM_ENDINGS = ("ों", "ो", "ें", "्स")

# Languages whose answers are checked, with the share of known words below which
# an answer is rejected (ingest/languages.py; measured for Hindi only, see above).
KNOWN_SHARE = {code: lang.known_share for code, lang in LANGUAGES.items() if lang.known_share}
MIN_WORDS = 8  # fewer words in the language's own script: too few to judge


class KnownWords(NamedTuple):
    """How many of a text's words are words of its language."""

    share: float  # of the words in the language's own script, those it knows
    unknown: list[str]
    words: int


def known_share(text: str, lang: str | None, known: Iterable[str] = ()) -> KnownWords | None:
    """How many of the words of `text` in `lang`'s own script are words of `lang`;
    None when `lang` is not checked (KNOWN_SHARE) or the words are too few to judge.

    `known`: texts whose words count as known (the question, the passages).
    """
    lang = (lang or "").lower()
    if lang not in KNOWN_SHARE:
        return None
    words = _native_words(text, lang)
    if len(words) < MIN_WORDS:
        return None
    borrowed = {w for source in known for w in _native_words(source, lang)}
    unknown = [w for w in words if w not in borrowed and not _is_word(w, lang)]
    return KnownWords(1 - len(unknown) / len(words), unknown, len(words))


def unknown_words(text: str, lang: str | None, known: Iterable[str] = ()) -> list[str]:
    """The words of `text` that are no words of `lang`, when they are too many
    (see KNOWN_SHARE); [] when the text passes or is not checked."""
    counted = known_share(text, lang, known)
    if counted is None or counted.share >= KNOWN_SHARE[(lang or "").lower()]:
        return []
    return list(dict.fromkeys(counted.unknown))


def _native_words(text: str, lang: str) -> list[str]:
    native = _native_word(lang)
    return [w for w in wordfreq.tokenize(text, lang) if native.fullmatch(w)]


@cache
def _native_word(lang: str) -> regex.Pattern:
    return regex.compile(f"(?:{NATIVE[lang]}|\\p{{M}})+")


@cache
def _is_word(word: str, lang: str) -> bool:
    if wordfreq.zipf_frequency(word, lang) > 0:
        return True
    return lang == "hi" and (
        word in HINDI_TERMS
        or any(word.endswith(e) and word[: -len(e)] in HINDI_TERMS for e in TERM_ENDINGS)
    )
