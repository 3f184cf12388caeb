"""One handle on a library (a data directory, or Milvus): model, store, search and
ingest, loaded lazily.

The CLI and the Gradio app both go through a Library, so they behave alike.
"""

from __future__ import annotations

import os
import threading
from functools import cached_property
from pathlib import Path

import numpy as np
from tqdm import tqdm

from paperlens.index.backends import open_for_reindex, open_store
from paperlens.index.embeddings import Embedder, make_embedder
from paperlens.index.focus import FocusSettings, with_read_forms
from paperlens.index.ingestion import EventCallback, Ingestor, IngestReport, ProgressCallback
from paperlens.index.ray_cluster import ClusterOptions, preflight
from paperlens.index.records import ForgottenSource
from paperlens.index.refresh import RefreshReport, refresh
from paperlens.index.rerank import Candidate, Reranker, make_reranker
from paperlens.index.search import Searcher
from paperlens.index.storage import LibraryStore
from paperlens.ingest.config import Settings
from paperlens.ingest.errors import PaperlensError
from paperlens.ingest.sources import stored_uris

# Passages re-embedded between two reranker fills: the shared encoder still
# remembers them (index/encoders.py RECENT), so each is computed once.
REINDEX_CHUNK = 4096


class Library:
    def __init__(self, settings: Settings, *, show_progress: bool = True) -> None:
        self.settings = settings
        self.show_progress = show_progress
        self._lock = threading.RLock()

    @cached_property
    def embedder(self) -> Embedder:
        return make_embedder(self.settings)

    @cached_property
    def store(self) -> LibraryStore:
        return open_store(self.settings, model_name=self.embedder.name, dim=self.embedder.dim)

    @cached_property
    def reranker(self) -> Reranker | None:
        return make_reranker(self.settings, self.store)

    @cached_property
    def searcher(self) -> Searcher:
        return Searcher(
            self.store,
            self.embedder,
            bm25_weight=self.settings.bm25_weight,
            reranker=self.reranker,
            rerank_candidates=self.settings.rerank_candidates,
            focus_settings=FocusSettings(
                papers=self.settings.focus_papers,
                neighbour_weight=self.settings.focus_neighbour_weight,
                own_terms_weight=self.settings.focus_own_terms_weight,
                own_term_share=self.settings.focus_own_term_share,
                table_row_names=self.settings.focus_table_row_names,
                table_offset=self.settings.focus_table_offset,
            ),
        )

    def ingest(
        self,
        args: list[str],
        *,
        pdfs: bool = True,
        on_event: EventCallback | None = None,
        on_progress: ProgressCallback | None = None,
        cluster: ClusterOptions | None = None,
    ) -> IngestReport:
        """Ingest here, or parse and embed on a Ray cluster when `cluster` is given
        (written here either way: index/ray_ingest.py)."""
        with self._lock:
            if cluster is not None:
                from paperlens.index.ray_ingest import ingest_on_ray

                preflight(cluster)  # before the catalog is opened: nothing written
                return ingest_on_ray(
                    self._ingestor(on_progress), args, cluster, pdfs=pdfs, on_event=on_event
                )
            return self._ingestor(on_progress).ingest(args, pdfs=pdfs, on_event=on_event)

    def refresh(
        self, *, pdfs: bool = False, on_event: EventCallback | None = None
    ) -> RefreshReport:
        """Fetch every URL source again (conditionally) and ingest what changed."""
        with self._lock:
            return refresh(self._ingestor(), pdfs=pdfs, on_event=on_event)

    def forget(self, ref: str) -> list[ForgottenSource]:
        """Forget the source a user names, as `paperlens sources` shows it or as it was
        given to ingest (a file path, URL or arXiv id; a folder: every source stored
        from below it): its passages, and the papers no other source gives."""
        with self._lock:
            uris = self.sources_named(ref)
            if not uris:
                raise PaperlensError(
                    f"{ref or '(empty)'}: no such source in the library "
                    "(`paperlens sources` lists them)"
                )
            return [gone for uri in uris if (gone := self.store.forget_source(uri))]

    def forget_failed(self) -> list[ForgottenSource]:
        """Forget every source that never got into the library (its ingest failed and
        nothing of it is stored), so `refresh` stops retrying it. A source that failed
        later keeps its passages and its status: forget it by name."""
        with self._lock:
            failed = [s.uri for s in self.store.sources() if s.status == "failed"]
            return [gone for uri in failed if (gone := self.store.forget_source(uri))]

    def sources_named(self, ref: str) -> list[str]:
        """The stored URIs `ref` names, as `forget` reads it (none when it names
        nothing stored; a folder names every source stored from below it)."""
        known = {s.uri for s in self.store.sources()}
        if ref in known:
            return [ref]
        path = Path(os.path.expanduser(ref))  # an unknown ~user stays as typed
        if ref.strip() and path.is_dir():
            folder = os.path.join(path.resolve(), "")
            return sorted(uri for uri in known if uri.startswith(folder))
        candidates = stored_uris(ref, self.settings.arxiv_abs_url)
        return [uri for uri in dict.fromkeys(candidates) if uri in known]

    def _ingestor(self, on_progress: ProgressCallback | None = None) -> Ingestor:
        return Ingestor(
            self.store,
            self.embedder,
            self.settings,
            show_progress=self.show_progress,
            prepare_rerank=self.prepare_rerank if self.reranker else None,
            on_progress=on_progress,
        )

    def prepare_rerank(self, paper_ids: list[str]) -> None:
        """Cache the reranker's vectors for these papers' passages, so that search
        never embeds passages with the large model on the query path."""
        ids = [p.id for pid in paper_ids for p in self.store.paper_passages(pid)]
        candidates = with_read_forms(
            self.searcher.candidates_for(ids), self.searcher.focus_settings
        )
        with tqdm(
            total=len(candidates),
            desc="reranker vectors",
            unit="passage",
            disable=not self.show_progress,
            leave=False,
        ) as bar:
            self.reranker.prepare(candidates, on_progress=bar.update)

    def reindex(self, on_event: EventCallback | None = None) -> int:
        """Re-embed every passage with the current model and fill the reranker's
        missing vectors (after a change of reranking model, dims or format);
        returns the passage count."""
        with self._lock:
            store = open_for_reindex(self.settings)
            rows = store.all_passage_parts()
            if on_event:
                before = store.model_name or "no model"
                on_event(f"re-embedding {len(rows)} passages: {before} -> {self.embedder.name}")
            ingestor = Ingestor(
                store, self.embedder, self.settings, show_progress=self.show_progress
            )
            # With EmbeddingGemma in both stages, the reranker's vectors come from the
            # same forward pass: fill them chunk by chunk while the encoder remembers.
            reranker = make_reranker(self.settings, store)
            parts = [np.zeros((0, self.embedder.dim), dtype=np.float32)]
            for start in range(0, len(rows), REINDEX_CHUNK):
                chunk = rows[start : start + REINDEX_CHUNK]
                parts.append(
                    ingestor.embed_passages([self.embedder.document(h, t) for _, h, t in chunk])
                )
                if reranker:
                    reranker.prepare([Candidate(pid, h, t) for pid, h, t in chunk])
            vectors = np.vstack(parts)
            store.replace_vectors(
                [pid for pid, _, _ in rows],
                vectors,
                model_name=self.embedder.name,
                dim=self.embedder.dim,
            )
            store.close()
            for name in ("store", "reranker", "searcher"):
                self.__dict__.pop(name, None)
            if self.reranker:  # vectors missing for this reranker (new model or format)
                self.prepare_rerank([paper.id for paper in self.store.papers()])
            return len(rows)
