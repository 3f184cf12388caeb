"""Repair of a draft in the wrong language: translate it one sentence at a time, and
if that fails, ask again under a stricter language rule (docs/answers.md, "The
flow", steps 4 and 5).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from paperlens.assistant.checks.citations import (
    MARKER,
    SENTENCE_END,
    cite_at_end,
    finished,
    join_sentences,
    split_sentences,
    without_labels,
)
from paperlens.assistant.checks.language import language_problem
from paperlens.assistant.checks.names import lost_names
from paperlens.assistant.checks.support import SupportChecker, has_content, without_repeats
from paperlens.assistant.checks.writing_systems import foreign_letters, native_number_units
from paperlens.assistant.llm import LLM, complete
from paperlens.assistant.prompts import EXAMPLE_SOURCE, EXAMPLE_TRANSLATIONS
from paperlens.ingest.langid import detect_language
from paperlens.ingest.languages import language, language_name

ANSWER_TOKENS = 400  # an answer or a summary
SENTENCE_TOKENS = 200  # one translated sentence (Devanagari takes ~0.85 token a letter)
TRANSLATION_TEMPERATURES = (0.2, 0.7)  # a sentence's first try, then a freer one
GIVE_UP_AFTER = 2  # sentences failed with none translated: the model cannot write the language

WRITE_IT_OUT = "Write the answer itself in full sentences, each followed by its [n] markers."


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
    fresh answer to `messages` under the stricter rule that is in `lang` and that
    `accept` finds nothing wrong with (it returns a problem, e.g. "no sentence is
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
    source's back. A sentence the draft repeats (a small model loops on a copied
    passage) is translated once: its translations would differ and pass as two.
    """
    kept, failed, nearest = [], 0, []
    for source in without_repeats(split_sentences(draft)):
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
    and worse once). A try fails that loses a name of its source: similarity
    does not see "mAP" become "mapa" (seen in a Portuguese answer)."""
    markers = "".join(m[0] for m in MARKER.finditer(source))
    messages = rewrite_messages(source, lang)
    closeness = []
    for temperature in TRANSLATION_TEMPERATURES:
        reply = finished(
            *complete(llm, messages, max_tokens=SENTENCE_TOKENS, temperature=temperature)
        )
        text = _unwrap(reply, lang)
        if markers and text and not MARKER.search(text):
            text = cite_at_end(text, markers)
        if checker is not None:
            if (near := checker.closeness(text, source)) is not None:
                closeness.append(near)
            text, _ = checker.faithful(text, source)
        if has_content(text) and wrong(text) is None and not lost_names(source, text):
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


def _complete(llm: LLM, messages: list[dict]) -> str:
    return finished(*complete(llm, messages, max_tokens=ANSWER_TOKENS))


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
    known = language(lang)
    rule = known.labels.write_only_in if known and known.labels else None
    return rule or f"Write only in {language_name(lang)}."


def stricter_messages(messages: list[dict], lang: str, said_nothing: bool = False) -> list[dict]:
    """The same request with the language rule repeated, last, in that language; when
    the draft was markers alone ("[1][2]"), asked to write the sentences out."""
    rules = f"{WRITE_IT_OUT} {language_rule(lang)}" if said_nothing else language_rule(lang)
    last = dict(messages[-1], content=f"{messages[-1]['content']}\n\n{rules}")
    return [*messages[:-1], last]
