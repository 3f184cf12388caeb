"""A LangChain retriever over a paperlens library, usable in any chain or agent.

    from paperlens.assistant.api import Paperlens
    from paperlens.assistant.retriever import PaperlensRetriever

    retriever = PaperlensRetriever(lens=Paperlens.open("data"), k=4)
    docs = retriever.invoke("저랭크 적응이란?")          # passages in any language
    docs[0].metadata["title"], docs[0].metadata["url"]

Each `Document` is one passage (the text answers are built from), with the
metadata a citation needs. Retrieval is paperlens' own: hybrid dense + BM25
(reranked when the reranker is installed), across languages.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from paperlens.assistant.api import Paperlens
from paperlens.index.hits import Hit


class PaperlensRetriever(BaseRetriever):
    """Passages of a paperlens library for a query in any language, best first.

    Metadata of each Document: paper_id, arxiv_id, title, page (PDF pages), url,
    lang, kind (digest | abstract | pdf), score (relative, for ordering), rank,
    passage_id (for `Paperlens.passage`) and source.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    lens: Paperlens = Field(description="The library to search (Paperlens.open(...)).")
    k: int = Field(default=4, ge=1, description="Passages to return.")
    lang: str | None = Field(default=None, description="Only passages in this language.")
    mode: str | None = Field(default=None, description="rerank | hybrid | dense | bm25.")

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        lang: str | None = None,
        **_: Any,
    ) -> list[Document]:
        """`k` and `lang` given to `invoke(query, k=..., lang=...)` override the fields."""
        hits = self.lens.passages(query, k=k or self.k, lang=lang or self.lang, mode=self.mode)
        return [to_document(hit) for hit in hits]


def to_document(hit: Hit) -> Document:
    """One passage as a LangChain Document, with what a citation needs in metadata."""
    return Document(
        id=str(hit.passage_id),
        page_content=hit.passage,
        metadata={
            "paper_id": hit.paper_id,
            "arxiv_id": hit.arxiv_id,
            "title": hit.title,
            "page": hit.page,
            "url": hit.url,
            "lang": hit.lang,
            "kind": hit.kind,
            "score": hit.score,
            "rank": hit.rank,
            "passage_id": hit.passage_id,
            "source": hit.source,
        },
    )
