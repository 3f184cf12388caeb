"""The language table: every language the app offers can be detected, named,
prompted for and told about in its own words."""

from __future__ import annotations

import pytest

from paperlens.assistant.checks.writing_systems import foreign_letters
from paperlens.assistant.repair import language_rule
from paperlens.ingest.langid import detect_language, language_asked_in
from paperlens.ingest.languages import ANSWER_LANGUAGES, LANGUAGES, labels, language_name

SENTENCES = {
    "en": "Attention sinks keep the first tokens of a sequence in the cache.",
    "ko": "어텐션 싱크는 시퀀스의 처음 토큰을 캐시에 남겨 둡니다.",
    "ja": "アテンションシンクは系列の最初のトークンをキャッシュに残します。",
    "zh": "注意力汇聚点把序列最开始的词元保留在缓存里。",
    "hi": "अटेंशन सिंक अनुक्रम के पहले टोकन को कैश में रखते हैं।",
    "fr": "Les puits d'attention gardent les premiers jetons de la séquence en mémoire.",
    "de": "Aufmerksamkeitssenken behalten die ersten Token der Sequenz im Speicher.",
    "es": "Los sumideros de atención guardan los primeros tokens de la secuencia en memoria.",
    "pt": "Os sumidouros de atenção mantêm os primeiros tokens da sequência na memória.",
    "it": "I pozzi di attenzione conservano nella cache i primi token della sequenza.",
    "ru": "Стоки внимания сохраняют первые токены последовательности в кэше.",
}


def test_the_app_offers_the_languages_the_table_has_words_for():
    assert ANSWER_LANGUAGES == ["en", "ko", "ja", "zh", "hi", "fr", "de", "es", "pt", "it", "ru"]
    assert set(SENTENCES) == set(ANSWER_LANGUAGES)


@pytest.mark.parametrize("code", ANSWER_LANGUAGES)
def test_every_answer_language_is_detected_named_and_spoken_to_in_its_own_words(code):
    assert detect_language(SENTENCES[code]) == code
    assert language_name(code) == LANGUAGES[code].name != code
    notices = labels(code)
    assert "{why}" in notices.retrieval_only and notices.nothing_found and notices.checks_failed
    assert "{names}" in notices.nothing_on and "{titles}" in notices.nothing_on
    if code != "en":
        assert notices.nothing_found != labels("en").nothing_found
    # What paperlens says in a language is written in that language's scripts.
    for text in (notices.nothing_found, notices.checks_failed, language_rule(code)):
        assert foreign_letters(text, code) == []


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("Nel paper di PaLM (Scaling Language Modeling with Pathways), quanti layer ha?", "it"),
        (
            "Какой hits@10 на NQ320k даёт SEAL (LM+FM) в статье «Autoregressive Search Engines»?",
            "ru",
        ),
        ("Dans l'article 'Attention Is All You Need', combien de couches a l'encodeur ?", "fr"),
        ("How many layers does the encoder of «Attention Is All You Need» have?", "en"),
        ("What do (a) and (b) mean in Figure 2?", "en"),  # nothing left outside: all of it
        # Short questions full of English terms: their function words decide.
        ("Quel learning rate pour PaLM 540B ?", "fr"),
        ("Che learning rate usa il Transformer base?", "it"),
        ("Wie viele Attention Heads hat der Transformer Base?", "de"),
        ("¿Cuál es el learning rate de PaLM?", "es"),
        ("Qual é o speedup do FlashAttention no GPT-2?", "pt"),
        ("Is RWKV a transformer or an RNN?", "en"),
        ("ResNet-152 top-5 error on ImageNet?", "en"),
        ("Cosa fa il FM-index in SEAL?", "it"),  # a name's pieces ("index") are no one's words
        # Function words of other scripts' languages do not vote: Russian stays Russian.
        ("Какой learning rate у PaLM?", "ru"),
    ],
)
def test_a_question_is_in_the_language_it_is_asked_in_not_the_titles_it_names(question, lang):
    assert language_asked_in(question) == lang


def test_a_language_without_words_of_its_own_is_spoken_to_in_english():
    assert labels("vi") == labels("en") and labels("xx") == labels("en")
    assert language_name("vi") == "Vietnamese" and language_name("xx") == "xx"
    assert language_rule("pt") == "Write only in Portuguese."
