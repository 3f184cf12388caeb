"""A question (and its conversation) -> retrieval -> a cited answer, streamed.

The one entry point the CLI's `ask` and the app's chat share.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from paperlens.assistant.answers import Answer
from paperlens.assistant.checked_generation import support_checker
from paperlens.assistant.rag import answer_stream, condense_question
from paperlens.assistant.relevance import (
    names_not_found,
    passage_relevance,
    weak_evidence_note,
)
from paperlens.index.hits import Hit
from paperlens.index.library import Library
from paperlens.index.limits import check_query
from paperlens.ingest.errors import PaperlensError
from paperlens.ingest.langid import language_asked_in
from paperlens.ingest.languages import answer_language
from paperlens.ingest.tables import table_context_of

PASSAGES_PER_ANSWER = 6


def question_language(question: str, lang: str | None) -> str:
    """The language to answer in: the one asked for, else the question's own."""
    if lang and lang.strip().lower() not in ("", "auto"):
        return answer_language(lang)
    return language_asked_in(question) or "en"


def ask_stream(
    library: Library,
    question: str,
    *,
    lang: str | None = None,
    history: Sequence[tuple[str, str]] = (),
    llm=None,
    k: int = PASSAGES_PER_ANSWER,
) -> Iterator[str | Answer]:
    """Yield answer text as it is generated, then the final `Answer`.

    Follow-ups are condensed with the conversation into a standalone query
    for retrieval; the answer itself addresses the question as asked.
    """
    question = check_query(question, library.settings, "question").strip()
    if not question:
        raise PaperlensError("the question is empty")
    target = question_language(question, lang)
    query = condense_question(list(history), question, llm) if history else question
    hits = library.searcher.search_passages(query, k=k)
    reranked = library.searcher.default_mode == "rerank"
    if reranked:  # the reranker's score already is an absolute relevance
        relevance = {h.passage_id: h.score for h in hits}
    else:
        relevance = passage_relevance(library, query, [(h.passage_id, h.paper_id) for h in hits])
    for item in answer_stream(
        question,
        hits,
        llm,
        lang=target,
        settings=library.settings,
        checker=support_checker(library),
        relevance=hits[0].score if hits and reranked else None,
        unknown_names=names_not_found(library, question, hits),
        tables=table_contexts(library, hits),
    ):
        if isinstance(item, Answer):
            item = with_relevance(item, relevance, warn=not reranked)
        yield item


def table_contexts(library: Library, hits: Sequence[Hit]) -> dict[int, str]:
    """The caption and column names of the PDF tables `hits` are pieces of, by passage id."""
    documents = library.store.passage_documents(hit.passage_id for hit in hits)
    contexts = {pid: table_context_of(header) for pid, (header, _) in documents.items()}
    return {pid: context for pid, context in contexts.items() if context}


def with_relevance(answer: Answer, relevance: dict[int, float], *, warn: bool = True) -> Answer:
    """Give each citation its relevance; warn when the best retrieved passage is weak
    (unless the reranker's relevance already judged the answer, see rag.py)."""
    for citation in answer.citations:
        citation.relevance = relevance.get(citation.passage_id)
    note = weak_evidence_note(max(relevance.values(), default=None)) if warn else None
    if note and answer.mode != "no-results":
        answer.warnings.append(note)
    return answer


def ask(library: Library, question: str, **options) -> Answer:
    """The whole answer at once (the CLI's `ask --json`)."""
    final = None
    for item in ask_stream(library, question, **options):
        if isinstance(item, Answer):
            final = item
    if final is None:  # answer_stream always ends with an Answer
        raise PaperlensError("no answer was produced")
    return final
