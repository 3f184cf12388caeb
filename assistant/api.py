"""paperlens as a Python library: one object over one data directory.

    from paperlens.assistant.api import Paperlens

    lens = Paperlens.open("data")                 # or Paperlens.open() for $PAPERLENS_HOME
    lens.ingest(["weekly.md", "2106.09685"])      # -> IngestReport
    for hit in lens.search("low-rank adapters", k=3):
        print(hit.rank, hit.title, hit.score)     # -> list[Hit], one per paper
    answer = lens.ask("LoRA는 무엇을 학습하나요?")   # -> Answer (text, citations)
    lens.passage(answer.citations[0].passage_id)  # -> Evidence (the passage in context)

Every method returns the typed objects the CLI prints with `--json` (each has
`to_json()`); errors a user can cause raise `PaperlensError` with a one-line
message. The CLI, the MCP server and the LangChain retriever are thin layers
over the same functions, so they all answer alike.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from paperlens.assistant.evidence import Evidence, passage_context
from paperlens.assistant.rag import Answer
from paperlens.assistant.similar import (
    SimilarPaper,
    resolve_paper,
    similar_to_paper,
    similar_to_text,
)
from paperlens.index.hits import Hit
from paperlens.index.ingestion import EventCallback, IngestReport
from paperlens.index.library import Library
from paperlens.index.records import PaperRecord
from paperlens.index.refresh import RefreshReport
from paperlens.index.search import MODES, Mode
from paperlens.ingest.config import Settings
from paperlens.ingest.errors import PaperlensError

# How many passages a language-filtered search looks through per wanted hit: the
# fused ranking mixes languages, so the filter needs a deeper list than k.
LANG_FILTER_DEPTH = 20
AUTO = "auto"


class Paperlens:
    """A library of papers you can search, question and summarize.

    Cheap to keep for a whole session: models and indexes load on first use and
    are shared by every call (the object is safe to use from several threads).
    """

    def __init__(
        self,
        library: Library,
        *,
        generator: str | None = None,
        llm_source: Callable[[], Any] | None = None,
    ) -> None:
        """Wrap an open `Library`; `generator` is a key from `paperlens generators`
        (default: PAPERLENS_GENERATOR, else the best one found). `llm_source`, when
        given, supplies the generator for each answer instead (the app passes the one
        its Settings tab selects, so its MCP tools answer like its Ask tab)."""
        self.library = library
        self.generator = generator
        self.llm_source = llm_source
        self._llm_lock = threading.Lock()
        self._llm: Any = None
        self._llm_ready = False

    @classmethod
    def open(
        cls,
        home: str | Path | None = None,
        *,
        generator: str | None = None,
        show_progress: bool = False,
        **settings: Any,
    ) -> Paperlens:
        """Open (or create) the library in `home` (default: $PAPERLENS_HOME or ./data).

        Other keyword arguments override settings, e.g. `allow_private=True`.
        """
        base = Settings()
        updates = dict(settings)
        if home is not None:
            updates["home"] = Path(home)
        if updates:
            unknown = sorted(set(updates) - set(Settings.model_fields))
            if unknown:
                raise PaperlensError(f"unknown setting(s): {', '.join(unknown)}")
            base = base.model_copy(update=updates)
        return cls(Library(base, show_progress=show_progress), generator=generator)

    @property
    def settings(self) -> Settings:
        return self.library.settings

    @property
    def llm(self):
        """The answer generator (None when none is available), chosen once on first use."""
        if self.llm_source is not None:
            return self.llm_source()
        with self._llm_lock:
            if not self._llm_ready:
                from paperlens.assistant.llm import get_llm

                self._llm = get_llm(self.settings, self.generator)
                self._llm_ready = True
            return self._llm

    # ---- building the library ------------------------------------------------

    def ingest(
        self,
        sources: str | Sequence[str],
        *,
        pdfs: bool = True,
        on_event: EventCallback | None = None,
    ) -> IngestReport:
        """Add files, folders, http(s) URLs or arXiv ids; one outcome per source
        (bad sources are reported in the result, never raised)."""
        args = [sources] if isinstance(sources, str) else list(sources)
        return self.library.ingest(args, pdfs=pdfs, on_event=on_event)

    def refresh(
        self, *, pdfs: bool = False, on_event: EventCallback | None = None
    ) -> RefreshReport:
        """Fetch every URL source again with a conditional request and ingest what
        changed; the report names the papers each source added (index/refresh.py)."""
        return self.library.refresh(pdfs=pdfs, on_event=on_event)

    # ---- finding --------------------------------------------------------------

    def search(
        self, query: str, k: int = 5, *, lang: str | None = None, mode: str | None = None
    ) -> list[Hit]:
        """The k best papers for `query` (any language), each with its best passage.

        `lang` keeps only passages in that language (ISO code, e.g. "ko"); `mode`
        is one of rerank | hybrid | dense | bm25 (default: the best available).
        """
        chosen = _mode(mode)
        lang = _lang(lang)
        if lang is None:
            return self.library.searcher.search(query, k=k, mode=chosen)
        passages = self.passages(query, k=k * LANG_FILTER_DEPTH, lang=lang, mode=mode)
        best: dict[str, Hit] = {}
        for hit in passages:
            best.setdefault(hit.paper_id, hit)
        return _renumbered(list(best.values())[:k])

    def passages(
        self, query: str, k: int = 8, *, lang: str | None = None, mode: str | None = None
    ) -> list[Hit]:
        """The k best passages for `query` (several per paper allowed): what answers
        are built from, and what the LangChain retriever returns."""
        chosen, lang = _mode(mode), _lang(lang)
        if lang is None:
            return self.library.searcher.search_passages(query, k=k, mode=chosen)
        deeper = self.library.searcher.search_passages(query, k=k * LANG_FILTER_DEPTH, mode=chosen)
        return _renumbered([h for h in deeper if (h.lang or "") == lang][:k])

    def similar(
        self, paper: str | None = None, *, text: str | None = None, k: int = 5
    ) -> list[SimilarPaper]:
        """Papers most like `paper` (arXiv id, paper id or title; itself excluded),
        or like a piece of `text`; each with the passages that explain why."""
        if bool(paper and paper.strip()) == bool(text and text.strip()):
            raise PaperlensError("give a paper (arXiv id, id or title) or a text, not both")
        if text:
            return similar_to_text(self.library, text, k)
        return similar_to_paper(self.library, paper or "", k)

    def paper(self, ref: str) -> PaperRecord:
        """One paper by arXiv id, paper id or title (a miss suggests close titles)."""
        return resolve_paper(self.library, ref)

    def papers(self, filter: str | None = None, *, lang: str | None = None) -> list[PaperRecord]:  # noqa: A002 (the word users see)
        """Every paper, by title; `filter` keeps those whose titles or ids contain it
        (case-insensitive), `lang` those with a passage in that language."""
        needle = (filter or "").strip().casefold()
        lang = _lang(lang)
        found = []
        for paper in self.library.store.papers():
            names = " ".join([paper.title, *paper.titles.values(), paper.arxiv_id or "", paper.id])
            if needle and needle not in names.casefold():
                continue
            if lang and lang not in paper.languages:
                continue
            found.append(paper)
        return found

    def passage(self, passage_id: int) -> Evidence:
        """A cited passage in context: its digest entry, or its PDF page (`image`, PNG)."""
        return passage_context(self.library, int(passage_id))

    def stats(self) -> dict:
        """Papers, passages, sources, languages, model and index size."""
        return self.library.store.stats()

    def as_retriever(self, **options: Any):
        """This library as a LangChain retriever (`PaperlensRetriever`; options: k, lang,
        mode)."""
        from paperlens.assistant.retriever import PaperlensRetriever

        return PaperlensRetriever(lens=self, **options)

    # ---- answering -------------------------------------------------------------

    def ask(
        self,
        question: str,
        *,
        lang: str | None = None,
        k: int | None = None,
        history: Sequence[tuple[str, str]] = (),
    ) -> Answer:
        """Answer from the library in `lang` (default: the question's language),
        every claim cited as [n] -> `answer.citations`."""
        final = None
        for item in self.ask_stream(question, lang=lang, k=k, history=history):
            if isinstance(item, Answer):
                final = item
        if final is None:  # ask_stream always ends with an Answer
            raise PaperlensError("no answer was produced")
        return final

    def ask_stream(
        self,
        question: str,
        *,
        lang: str | None = None,
        k: int | None = None,
        history: Sequence[tuple[str, str]] = (),
    ) -> Iterator[str | Answer]:
        """Like `ask`, yielding text as it is generated, then the checked `Answer`."""
        from paperlens.assistant.chat import PASSAGES_PER_ANSWER, ask_stream

        return ask_stream(
            self.library,
            question,
            lang=_lang(lang),
            history=history,
            llm=self.llm,
            k=k or PASSAGES_PER_ANSWER,
        )

    def summarize(self, paper: str, *, lang: str = "en") -> Answer:
        """A cited summary of one paper (arXiv id, paper id or title) in `lang`."""
        from paperlens.assistant.summarize import summarize_stream

        final = None
        for item in summarize_stream(self.library, paper, lang=lang, llm=self.llm):
            if isinstance(item, Answer):
                final = item
        if final is None:
            raise PaperlensError("no summary was produced")
        return final


def _mode(mode: str | None) -> Mode | None:
    if mode in (None, "", AUTO):
        return None
    if mode not in MODES:
        raise PaperlensError(f"unknown mode {mode!r} ({AUTO} | {' | '.join(MODES)})")
    return mode  # type: ignore[return-value]


def _lang(lang: str | None) -> str | None:
    lang = (lang or "").strip().lower()
    return None if lang in ("", AUTO, "all") else lang


def _renumbered(hits: list[Hit]) -> list[Hit]:
    return [dataclasses.replace(hit, rank=n) for n, hit in enumerate(hits, 1)]
