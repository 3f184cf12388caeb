"""Retrieved passages + a question -> an answer in the asked language, every
claim tied to a numbered passage; invalid citation markers are removed.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

from assistant.citations import (
    MARKER,
    SENTENCE_END,
    attribute_sentences,
    check_citations,
    cite_at_end,
    join_sentences,
    markers_to_sentence_ends,
    split_sentences,
    without_labels,
)
from assistant.llm import LLM, LLMError
from assistant.prompts import (
    EXAMPLE_SOURCE,
    EXAMPLE_TRANSLATIONS,
    answer_messages,
    condense_messages,
    fit_passages,
    language_name,
)
from assistant.scripts import foreign_letters, native_number_units
from assistant.verify import SupportChecker, has_content, language_problem
from index.hits import Hit, snippet
from ingest.config import Settings
from ingest.langid import detect_language

ANSWER_TOKENS = 400
SENTENCE_TOKENS = 200  # one translated sentence (Devanagari takes ~0.85 token a letter)
TRANSLATION_TEMPERATURES = (0.2, 0.7)  # a sentence's first try, then a freer one
GIVE_UP_AFTER = 2  # sentences failed with none translated: the model cannot write the language

NOTHING_FOUND = {
    "en": "I found nothing relevant to this question in your library.",
    "ko": "라이브러리에서 이 질문과 관련된 내용을 찾지 못했습니다.",
    "ja": "ライブラリの中に、この質問に関係する内容は見つかりませんでした。",
    "zh": "在你的文库中没有找到与这个问题相关的内容。",
    "hi": "आपकी लाइब्रेरी में इस प्रश्न से संबंधित कुछ नहीं मिला।",
    "fr": "Je n'ai rien trouvé de pertinent pour cette question dans votre bibliothèque.",
    "de": "Ich habe in Ihrer Bibliothek nichts Passendes zu dieser Frage gefunden.",
    "es": "No encontré nada relevante para esta pregunta en tu biblioteca.",
}
RETRIEVAL_ONLY = {
    "en": "No answer generator is available ({why}); here are the most relevant passages:",
    "ko": "답변 생성기를 사용할 수 없습니다 ({why}). 가장 관련 있는 구절입니다:",
    "ja": "回答生成モデルが使えません ({why})。最も関連する箇所を示します:",
    "zh": "没有可用的回答生成模型（{why}）。以下是最相关的段落：",
    "hi": "उत्तर बनाने वाला मॉडल उपलब्ध नहीं है ({why}); सबसे प्रासंगिक अंश ये हैं:",
    "fr": "Aucun générateur de réponses n'est disponible ({why}) ; "
    "voici les passages les plus pertinents :",
    "de": "Kein Antwortgenerator verfügbar ({why}); hier die relevantesten Passagen:",
    "es": "No hay un generador de respuestas disponible ({why}); "
    "estos son los pasajes más relevantes:",
}


@dataclass
class Citation:
    n: int
    paper_id: str
    arxiv_id: str | None
    title: str
    page: int | None
    passage: str
    url: str | None
    passage_id: int | None = None  # to show the passage in context (assistant/evidence.py)
    score: float | None = None  # the search score that selected it (fused, relative)
    relevance: float | None = None  # cosine with the question (assistant/relevance.py)


@dataclass
class Answer:
    text: str
    lang: str
    citations: list[Citation] = field(default_factory=list)
    removed_markers: int = 0
    mode: Literal["llm", "extractive", "no-results"] = "llm"
    model: str | None = None
    warnings: list[str] = field(default_factory=list)
    abstained: bool = False  # the library holds nothing that answers the question
    sentences: int = 0  # sentences the model wrote (after citation checks)
    supported: int = 0  # of those, sentences a cited passage supports
    relevance: float | None = None  # best passage's reranker score, when known

    def to_json(self) -> dict:
        return asdict(self)


CHECKS_FAILED = {
    "en": "The generated answer did not pass paperlens' checks; here are the most relevant "
    "passages:",
    "ko": "생성된 답변이 검증을 통과하지 못했습니다. 가장 관련 있는 구절입니다:",
    "ja": "生成された回答は検証を通過しませんでした。最も関連する箇所を示します:",
    "zh": "生成的回答没有通过检查。以下是最相关的段落：",
    "hi": "बनाया गया उत्तर जाँच में सफल नहीं हुआ; सबसे प्रासंगिक अंश ये हैं:",
    "fr": "La réponse générée n'a pas passé les vérifications ; voici les passages les plus "
    "pertinents :",
    "de": "Die erzeugte Antwort hat die Prüfungen nicht bestanden; hier die relevantesten "
    "Passagen:",
    "es": "La respuesta generada no superó las comprobaciones; estos son los pasajes más "
    "relevantes:",
}

NO_SUPPORT = "no sentence of the model's answer was supported by the passages"

STRICTER = {
    "ko": "반드시 한국어로만 답하세요. 한자, 일본어 가나, 영어 문장을 쓰지 마세요.",
    "ja": "必ず日本語だけで答えてください。ハングルや英語の文を使わないでください。",
    "zh": "请只用简体中文回答，不要使用日文假名、韩文或英文句子。",
    "hi": "केवल हिंदी (देवनागरी लिपि) में उत्तर दें। अंग्रेज़ी वाक्य न लिखें।",
}


def answer_stream(
    question: str,
    hits: list[Hit],
    llm: LLM | None,
    *,
    lang: str,
    settings: Settings,
    checker: SupportChecker | None = None,
    relevance: float | None = None,
) -> Iterator[str | Answer]:
    """Yield text deltas, then the final, checked Answer.

    The final Answer's text is authoritative: sentences no passage supports are
    removed, and an answer in the wrong language is asked for again once, so it
    may differ from what was streamed.
    `relevance` (the reranker's best score) below `settings.abstain_below` means
    the library holds nothing that answers the question: say so, cite nothing.
    """
    if not hits or (relevance is not None and relevance < settings.abstain_below):
        text = NOTHING_FOUND.get(lang, NOTHING_FOUND["en"])
        yield text
        yield Answer(text, lang, mode="no-results", abstained=True, relevance=relevance)
        return
    given = fit_passages(hits, settings.context_tokens)
    if llm is None:
        yield from _extractive(given, lang, why="no model configured", relevance=relevance)
        return
    messages = answer_messages(question, given, lang)
    readable, numbers = _readable(given, lang)
    retry = answer_messages(question, readable, lang, numbers=numbers)

    built: dict[str, Answer] = {}  # each candidate is checked once; the accepted one is kept

    def unsupported(text: str) -> str | None:
        answer = built[text] = build_answer(
            text, given, lang, mode="llm", model=llm.name, checker=checker
        )
        return NO_SUPPORT if answer.sentences and not answer.supported else None

    try:
        text = yield from _stream(llm, messages)
        text, problem = retry_in_language(
            llm, text, retry, lang, question, unsupported, checker, [h.passage for h in given]
        )
    except LLMError as exc:
        yield "\n\n"
        yield from _extractive(given, lang, why=str(exc), relevance=relevance)
        return
    if problem:
        yield from _extractive(given, lang, why=problem, relevance=relevance, checks_failed=True)
        return
    final = built.get(text) or build_answer(
        text, given, lang, mode="llm", model=llm.name, checker=checker
    )
    final.relevance = relevance
    yield final


def _readable(given: list[Hit], lang: str) -> tuple[list[Hit], list[int]]:
    """The passages written in `lang`'s scripts or Latin, with their numbers (all of
    them if none is): the stricter retry leaves out the rest, because a model
    asked for Korean copies the Japanese passage's 兆 and katakana."""
    kept = [(n, h) for n, h in enumerate(given, 1) if not foreign_letters(h.passage, lang)]
    if not kept:
        return given, list(range(1, len(given) + 1))
    return [h for _, h in kept], [n for n, _ in kept]


def answer(question: str, hits: list[Hit], llm: LLM | None, *, lang: str, settings, **checks):
    final = None
    for item in answer_stream(question, hits, llm, lang=lang, settings=settings, **checks):
        if isinstance(item, Answer):
            final = item
    return final


def build_answer(
    text: str, given: list[Hit], lang: str, *, mode, model, checker: SupportChecker | None = None
) -> Answer:
    if mode == "llm":  # quoted passages keep their layout: "[n] text" blocks
        text = markers_to_sentence_ends(text)
    cleaned, cited, removed = check_citations(text, len(given))
    sentences = supported = 0
    warnings = []
    if mode == "llm":
        cleaned, _ = attribute_sentences(cleaned, [h.passage for h in given])
        if checker is not None:
            checked = checker.check(cleaned, given)
            cleaned, sentences, supported = checked.text, checked.sentences, checked.supported
            if checked.dropped:
                warnings.append(
                    f"{len(checked.dropped)} sentence(s) no passage supports were removed"
                )
        cleaned, cited, _ = check_citations(cleaned, len(given))
    citations = [_citation(n, given[n - 1]) for n in cited]
    return Answer(
        cleaned,
        lang,
        citations,
        removed,
        mode,
        model,
        warnings,
        sentences=sentences,
        supported=supported,
    )


def _stream(llm: LLM, messages: list[dict]) -> Generator[str, None, str]:
    text = ""
    for delta in llm.stream_chat(messages, max_tokens=ANSWER_TOKENS):
        text += delta
        yield delta
    return text


def _complete(llm: LLM, messages: list[dict]) -> str:
    return "".join(llm.stream_chat(messages, max_tokens=ANSWER_TOKENS))


def retry_in_language(
    llm: LLM,
    text: str,
    messages: list[dict],
    lang: str,
    question: str = "",
    accept: Callable[[str], str | None] | None = None,
    checker: SupportChecker | None = None,
    sources: Sequence[str] = (),
) -> tuple[str, str | None]:
    """(text, problem): the first of the draft, its translation into `lang` and a
    fresh answer under the stricter rule that is in `lang` and that `accept`
    finds nothing wrong with (it returns a problem, e.g. "no sentence is
    supported by the passages"); problem is None when one passed.

    The translation comes first: its prompts hold the draft's sentences, not the
    passages, so it costs seconds, and it keeps the draft's content and markers.
    A stricter answer in `lang` with a few stray words ("단순히注意力 기반으로")
    has those sentences translated, not the whole answer thrown away.
    `sources` (the passages) may lend English phrases to an answer in any language.
    """

    def wrong(text: str) -> str | None:
        return language_problem(text, lang, question, sources)

    def problem(text: str) -> str | None:
        return wrong(text) or (accept(text) if accept else None)

    # Every candidate is without labels: the draft here, the replies by _unwrap.
    text = native_number_units(without_labels(text), lang)
    if wrong(text) is None:  # retries are for the language
        return text, accept(text) if accept else None
    said_nothing = not has_content(text)  # "[1][2]": a draft of citations alone
    translation = translate(llm, text, lang, wrong, checker)
    text = translation.text
    if text and problem(text) is None:
        return text, None
    if translation.unsayable:  # its own answer in `lang` would be no better, only unchecked
        return text, f"the model could not say its draft in {language_name(lang)}"
    text = _unwrap(_complete(llm, stricter_messages(messages, lang, said_nothing)), lang)
    if detect_language(MARKER.sub("", text)) == lang and wrong(text):
        text = translate(llm, text, lang, wrong, checker).text or text  # mend its stray words
    return text, problem(text)


@dataclass
class Translation:
    text: str  # the translated sentences kept, joined
    unsayable: bool  # checked tries, none of them near its source: the model cannot say it


def translate(
    llm: LLM,
    draft: str,
    lang: str,
    wrong: Callable[[str], str | None],
    checker: SupportChecker | None = None,
) -> Translation:
    """The draft in `lang`, translated one sentence at a time: each translated
    sentence is kept if it is in `lang` (`wrong` finds no language problem in
    it) and (with a `checker`) says what its source said; sentences already in
    `lang` are kept as they are.

    One sentence at a time because a small model translates a sentence far
    better than a paragraph (a whole summary came back with a broken word,
    "네ural", which failed the whole text), and a bad sentence then costs only
    itself. Garbled Hindi scores 0.51-0.73 against the English it claims to
    translate, under the fidelity threshold (docs/answers.md#thresholds): the
    checker drops it, and after two sentences failed with none translated the
    rest are not tried. A translated sentence that lost its markers gets its
    source's back.
    """
    kept, failed, nearest = [], 0, []
    for source in split_sentences(draft):
        if not has_content(source):
            continue  # markers alone; the sentences carry their own
        if wrong(source) is None:
            kept.append(source.strip())
        elif failed >= GIVE_UP_AFTER and not kept:
            break  # the model cannot write this language: stop paying for tries
        else:
            text, closeness = _translate_sentence(llm, source, lang, wrong, checker)
            nearest += closeness
            if text:
                kept.append(text)
            else:
                failed += 1
    unsayable = bool(nearest) and not kept and max(nearest) < checker.fidelity_threshold
    return Translation(join_sentences(kept, " ".join(kept)), unsayable)


def _translate_sentence(
    llm: LLM, source: str, lang: str, wrong, checker: SupportChecker | None
) -> tuple[str | None, list[float]]:
    """(`source` in `lang`, faithful to it, or None; how close each try came to it):
    a second, freer sample when the first fails: another chance, not a better
    one (on three Korean sentences the freer sample said its source better once
    and worse once)."""
    markers = "".join(m[0] for m in MARKER.finditer(source))
    messages = rewrite_messages(source, lang)
    closeness = []
    for temperature in TRANSLATION_TEMPERATURES:
        reply = "".join(
            llm.stream_chat(messages, max_tokens=SENTENCE_TOKENS, temperature=temperature)
        )
        text = _unwrap(reply, lang)
        if markers and text and not MARKER.search(text):
            text = cite_at_end(text, markers)
        if checker is not None:
            if (near := checker.closeness(text, source)) is not None:
                closeness.append(near)
            text, _ = checker.faithful(text, source)
        if has_content(text) and wrong(text) is None:
            return text, closeness
    return None, closeness


def rewrite_messages(draft: str, lang: str) -> list[dict]:
    """Ask for the draft translated into `lang`, markers, numbers and names kept.

    Phrased as a plain translation request: small models follow "Translate ...
    into X" far better than "rewrite" (asked to rewrite, a small model replies
    that the text "has been rewritten in Japanese"). One worked example comes
    first where we have one; the language rule is not repeated at the end (a
    small model may answer with the rule itself).
    """
    name = language_name(lang)
    ask = (
        f"Translate the following text into {name}. Output only the translation. "
        "Keep every [n] marker, every number and every Latin-script name as written."
    )
    foreign = "".join(dict.fromkeys(foreign_letters(draft, lang)))
    hint = f" Write the words that use these characters in {name}: {foreign}" if foreign else ""
    messages = [{"role": "system", "content": f"You are a translator into {name}."}]
    if lang in EXAMPLE_TRANSLATIONS:
        messages += [
            {"role": "user", "content": f"{ask}\n\n<text>\n{EXAMPLE_SOURCE}\n</text>"},
            {"role": "assistant", "content": EXAMPLE_TRANSLATIONS[lang]},
        ]
    messages.append({"role": "user", "content": f"{ask}{hint}\n\n<text>\n{draft.strip()}\n</text>"})
    return messages


def _unwrap(text: str, lang: str) -> str:
    """The reply without the <text> tags, a lead-in line ("Here is the translation:"),
    the language rule repeated back (small models echo it instead of answering)
    or Markdown labels."""
    text = native_number_units(text.replace("<text>", "").replace("</text>", ""), lang).strip()
    for echo in SENTENCE_END.split(language_rule(lang)):
        if echo.strip():
            text = text.replace(echo.strip(), "").strip()
    first, _, rest = text.partition("\n")
    if rest.strip() and first.rstrip().endswith((":", "：")) and not MARKER.search(first):
        text = rest
    return without_labels(text)


def language_rule(lang: str) -> str:
    """ "Write only in <language>", in that language where we have it."""
    return STRICTER.get(lang) or f"Write only in {language_name(lang)}."


WRITE_IT_OUT = "Write the answer itself in full sentences, each followed by its [n] markers."


def stricter_messages(messages: list[dict], lang: str, said_nothing: bool = False) -> list[dict]:
    """The same request with the language rule repeated, last, in that language; when
    the draft was markers alone ("[1][2]"), asked to write the sentences out."""
    rules = f"{WRITE_IT_OUT} {language_rule(lang)}" if said_nothing else language_rule(lang)
    last = dict(messages[-1], content=f"{messages[-1]['content']}\n\n{rules}")
    return [*messages[:-1], last]


def condense_question(history: list[tuple[str, str]], question: str, llm: LLM | None) -> str:
    """A standalone retrieval query for a follow-up question."""
    if not history:
        return question
    if llm is not None:
        try:
            rewritten = "".join(
                llm.stream_chat(condense_messages(history, question), max_tokens=60)
            )
            if rewritten.strip():
                return rewritten.strip().splitlines()[0]
        except LLMError:
            pass
    # Without a model: the follow-up plus the previous question carries the topic.
    return f"{history[-1][0]} {question}"


def _extractive(
    given: list[Hit],
    lang: str,
    *,
    why: str,
    relevance: float | None = None,
    checks_failed: bool = False,
) -> Iterator[str | Answer]:
    """The best passages, cited, under a notice in the user's language.

    When the model's draft failed the checks, the notice says so and the reason
    (in English, from the checks) goes to the warnings, not into the text.
    """
    if checks_failed:
        intro = CHECKS_FAILED.get(lang, CHECKS_FAILED["en"])
    else:
        intro = RETRIEVAL_ONLY.get(lang, RETRIEVAL_ONLY["en"]).format(why=why)
    shown = given[:3]
    body = "\n\n".join(
        f"[{n}] {hit.title}: {snippet(hit.passage, 400)}" for n, hit in enumerate(shown, 1)
    )
    text = f"{intro}\n\n{body}"
    yield text
    final = build_answer(text, shown, lang, mode="extractive", model=None)
    final.relevance = relevance
    if checks_failed:
        final.warnings.append(why)
    yield final


def _citation(n: int, hit: Hit) -> Citation:
    return Citation(
        n,
        hit.paper_id,
        hit.arxiv_id,
        hit.title,
        hit.page,
        hit.passage,
        hit.url,
        passage_id=hit.passage_id,
        score=hit.score,
    )
