"""The one way a model's text reaches a user: its draft streams, is checked, is
repaired when it is in the wrong language, and is accepted as an `Answer`, or
the user gets the passages quoted with the reason (docs/answers.md, "The flow").

Answers (assistant/rag.py) and summaries (assistant/summarize.py) both come
through `generate_checked`; they differ only in what they ask and which
passages they would quote.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from dataclasses import replace

import numpy as np

from paperlens.assistant.answers import Answer, Citable, Citation
from paperlens.assistant.checks.citations import (
    attribute_sentences,
    check_citations,
    finished,
    markers_to_sentence_ends,
)
from paperlens.assistant.checks.support import SupportChecker
from paperlens.assistant.llm import LLM, LLMError
from paperlens.assistant.repair import ANSWER_TOKENS, retry_in_language
from paperlens.index.hits import snippet
from paperlens.index.library import Library
from paperlens.index.rerank import Candidate
from paperlens.ingest.languages import labels

QUOTED_CHARS = 400  # of each passage quoted when no answer passed
TABLE_ROW_CHARS = 90  # of each table row a warning shows


def generate_checked(
    llm: LLM,
    messages: list[dict],
    passages: Sequence[Citation],
    *,
    lang: str,
    checker: SupportChecker | None,
    fallback: Sequence[Citation],
    question: str = "",
    stricter: list[dict] | None = None,
    titled: bool = True,
) -> Iterator[str | Answer]:
    """Yield the draft's text as the model writes it, then the final `Answer`.

    `messages` asks for the draft; `passages` are the numbered passages in it
    (`passages[n - 1]` is "[n]"). A draft in the wrong language is repaired
    (assistant/repair.py): translated, or asked again with `stricter` (default:
    `messages`) under a stricter language rule. The first candidate in `lang`
    with at least one supported sentence is accepted, its unsupported sentences
    removed; when none is, or the model fails, `fallback` is quoted instead
    (see `quote_passages`). The words of `question` may appear in any language.
    The final Answer's text is authoritative: it may differ from what streamed.
    """
    candidates: dict[str, Answer] = {}  # each candidate is checked once; the accepted one is kept

    def unsupported(text: str) -> str | None:
        answer = candidates[text] = checked_answer(text, passages, lang, llm.name, checker)
        if answer.sentences and not answer.supported:
            return "no sentence of the model's answer was supported by the passages"
        return None

    try:
        draft = yield from _stream(llm, messages)
        text, problem = retry_in_language(
            llm,
            draft,
            stricter or messages,
            lang,
            question,
            unsupported,
            checker,
            [p.passage for p in passages],
        )
    except LLMError as exc:
        yield "\n\n"
        yield from quote_passages(fallback, lang, why=str(exc), titled=titled)
        return
    if problem:
        yield "\n\n"  # the draft streamed: the notice starts below it, not inside its sentence
        yield from quote_passages(fallback, lang, why=problem, checks_failed=True, titled=titled)
        return
    yield candidates.get(text) or checked_answer(text, passages, lang, llm.name, checker)


def _stream(llm: LLM, messages: list[dict]) -> Generator[str, None, str]:
    """Yield the draft as it comes; return it as far as the model finished it."""
    text, stream = "", llm.stream_chat(messages, max_tokens=ANSWER_TOKENS)
    while True:
        try:
            delta = next(stream)
        except StopIteration as stop:
            return finished(text, stop.value)
        text += delta
        yield delta


def checked_answer(
    text: str,
    passages: Sequence[Citation],
    lang: str,
    model: str | None,
    checker: SupportChecker | None = None,
) -> Answer:
    """The model's `text` as an Answer: markers moved after their sentence, markers
    to no passage removed, uncited sentences copied from a passage cited to it and
    (with a `checker`) sentences no passage supports removed."""
    text = markers_to_sentence_ends(text)
    cleaned, _, removed = check_citations(text, len(passages))
    cleaned, _ = attribute_sentences(cleaned, [p.passage for p in passages])
    sentences = supported = 0
    warnings, from_tables = [], []
    if checker is not None:
        checked = checker.check(cleaned, passages)
        cleaned, sentences, supported = checked.text, checked.sentences, checked.supported
        if checked.dropped:
            warnings.append(f"{len(checked.dropped)} sentence(s) no passage supports were removed")
        if checked.from_cells:
            from_tables = list(checked.from_cells)
            warnings.append(table_caution(checked.from_cells, passages))
    cleaned, cited, _ = check_citations(cleaned, len(passages))
    return Answer(
        cleaned,
        lang,
        [replace(passages[n - 1]) for n in cited],
        removed,
        "llm",
        model,
        warnings,
        sentences=sentences,
        supported=supported,
        figures_from_tables=from_tables,
    )


def table_caution(rows: dict[int, list[str]], passages: Sequence[Citation]) -> str:
    """The warning for figures the checks found only among a table's cells, with the
    rows that hold them: the row may be checked (figures.rows_named), the column is
    not (docs/answers.md#table-figures)."""
    where = []
    for n, found in rows.items():
        page = passages[n - 1].page
        shown = "; ".join(f'"{snippet(row, TABLE_ROW_CHARS)}"' for row in found[:2])
        where.append(f"[{n}]" + (f" p.{page}" if page else "") + (f": {shown}" if shown else ""))
    return (
        f"figures read from a table ({', '.join(where)}): the checks found them in the "
        "cited table, not under the column the answer names; compare them with the table"
    )


def quote_passages(
    shown: Sequence[Citation],
    lang: str,
    *,
    why: str,
    checks_failed: bool = False,
    titled: bool = True,
) -> Iterator[str | Answer]:
    """Yield, then return as an Answer, the `shown` passages quoted under their
    numbers ("[n] title: text", or "[n] text" when not `titled`), below a notice in
    the user's language: no generator (`why` says which), or its text failed the
    checks (`why`, in English, goes to the warnings, not into the text)."""
    notices = labels(lang)
    intro = notices.checks_failed if checks_failed else notices.retrieval_only.format(why=why)
    blocks = [
        f"[{c.n}] {f'{c.title}: ' if titled else ''}{snippet(c.passage, QUOTED_CHARS)}"
        for c in shown
    ]
    text = "\n\n".join([intro, *blocks])
    yield text
    # A quoted passage's own "[12]" (a paper's reference) cites none of ours.
    cleaned, cited, removed = check_citations(text, max((c.n for c in shown), default=0))
    numbered = {c.n: c for c in shown}
    citations = [replace(numbered[n]) for n in cited if n in numbered]
    warnings = [why] if checks_failed else []
    yield Answer(cleaned, lang, citations, removed, "extractive", None, warnings)


def support_checker(library: Library) -> SupportChecker | None:
    """Sentence-vs-passage support measured by the reranker's model (cross-lingual).

    Without a reranker, answers keep the weaker trigram attribution only.
    """
    reranker = library.reranker
    if reranker is None:
        return None

    def similarity(sentences: list[str], passages: Sequence[Citable]) -> np.ndarray:
        documents = library.store.passage_documents(p.passage_id for p in passages)
        candidates = [
            Candidate(p.passage_id, *documents.get(p.passage_id, ("", p.passage))) for p in passages
        ]
        return reranker.similarity(sentences, candidates)

    return SupportChecker(
        similarity,
        library.settings.support_threshold,
        sentence_similarity=reranker.sentence_similarity,
        fidelity_threshold=library.settings.fidelity_threshold,
    )
