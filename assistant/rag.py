"""Retrieved passages + a question -> an answer in the asked language, every
claim tied to a numbered passage (checked by assistant/checked_generation.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from paperlens.assistant.answers import Answer, Citation
from paperlens.assistant.checked_generation import generate_checked, quote_passages
from paperlens.assistant.checks.support import SupportChecker
from paperlens.assistant.checks.writing_systems import foreign_letters
from paperlens.assistant.llm import LLM, LLMError
from paperlens.assistant.prompts import answer_messages, condense_messages, fit_passages
from paperlens.index.hits import Hit
from paperlens.ingest.config import Settings
from paperlens.ingest.languages import labels

QUOTED_PASSAGES = 3  # quoted when no answer passes: the best ones
CLOSEST_PAPERS = 3  # named when the question asks about a name no paper mentions


def answer_stream(
    question: str,
    hits: list[Hit],
    llm: LLM | None,
    *,
    lang: str,
    settings: Settings,
    checker: SupportChecker | None = None,
    relevance: float | None = None,
    unknown_names: Sequence[str] = (),
    tables: Mapping[int, str] | None = None,
) -> Iterator[str | Answer]:
    """Yield text deltas, then the final, checked Answer.

    The final Answer's text is authoritative: sentences no passage supports are
    removed, and an answer in the wrong language is repaired, so it may differ
    from what was streamed.
    `relevance` (the reranker's best score) below `settings.abstain_below` means
    the library holds nothing that answers the question: say so, cite nothing.
    So do `unknown_names`, names the question asks about that no paper found
    mentions (assistant/checks/names.py). `tables`: the caption and column names
    of the PDF tables some hits are pieces of, by passage id (the model is shown them).
    """
    if not hits or (relevance is not None and relevance < settings.abstain_below):
        text = labels(lang).nothing_found
    elif unknown_names:
        closest = dict.fromkeys(hit.title for hit in hits)
        text = labels(lang).nothing_on.format(
            names=", ".join(unknown_names), titles="; ".join(list(closest)[:CLOSEST_PAPERS])
        )
    else:
        text = None
    if text is not None:
        yield text
        yield Answer(
            text,
            lang,
            mode="no-results",
            abstained=True,
            relevance=relevance,
            unknown_names=list(unknown_names) if hits else [],
        )
        return
    shown = fit_passages(hits, settings.context_tokens)
    passages = [_citation(n, hit) for n, hit in enumerate(shown, 1)]
    if llm is None:
        drafts = quote_passages(passages[:QUOTED_PASSAGES], lang, why="no model configured")
    else:
        readable, numbers = _readable(shown, lang)
        drafts = generate_checked(
            llm,
            answer_messages(question, shown, lang, tables=tables),
            passages,
            lang=lang,
            checker=checker,
            fallback=passages[:QUOTED_PASSAGES],
            question=question,
            stricter=answer_messages(question, readable, lang, numbers=numbers, tables=tables),
        )
    for item in drafts:
        if isinstance(item, Answer):
            item.relevance = relevance
        yield item


def _readable(shown: list[Hit], lang: str) -> tuple[list[Hit], list[int]]:
    """The passages written in `lang`'s scripts or Latin, with their numbers (all of
    them if none is): the stricter retry leaves out the rest, because a model
    asked for Korean copies the Japanese passage's 兆 and katakana."""
    kept = [(n, h) for n, h in enumerate(shown, 1) if not foreign_letters(h.passage, lang)]
    if not kept:
        return shown, list(range(1, len(shown) + 1))
    return [h for _, h in kept], [n for n, _ in kept]


def answer(
    question: str, hits: list[Hit], llm: LLM | None, *, lang: str, settings: Settings, **checks
) -> Answer:
    """The final Answer of `answer_stream`, without the stream."""
    final = None
    for item in answer_stream(question, hits, llm, lang=lang, settings=settings, **checks):
        if isinstance(item, Answer):
            final = item
    return final


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
