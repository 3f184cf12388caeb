"""The reranker's settings side by side: document format x dimensions x candidates.

    PAPERLENS_HOME=/tmp/seeds .venv/bin/python -m bench.bench_rerank \
        ../shared/eval/dev_queries.jsonl samples/eval_seeds_queries.jsonl

Embeds every passage of the library once per document format with the bundled
EmbeddingGemma (all 768 dims; truncations are prefixes, re-normalized), then
re-scores the same hybrid candidates of each query under every combination and
prints recall@1 / recall@5 / MRR with the ranks of the misses. "all" scores
every passage (EmbeddingGemma as the only retriever): the ceiling for N.
~2.5 minutes per format on the seeds (349 passages, 2 cores).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sentence_transformers import SentenceTransformer

from paperlens.index.bundled_models import gemma_path
from paperlens.index.evaluate import load_queries, matches
from paperlens.index.library import Library
from paperlens.index.search import fuse
from paperlens.ingest.config import Settings

FORMATS = {  # passage text as each variant embeds it, (titles, text) -> str
    "titles as a first line": lambda titles, text: (
        "title: none | text: " + (f"{titles}\n{text}" if titles else text)
    ),
    "titles in the title slot": lambda titles, text: (
        "title: " + (" / ".join(titles.splitlines()) or "none") + " | text: " + text
    ),
}
DIMS = (256, 512, 768)
CANDIDATES = (40, 150, "all")


def main() -> None:
    settings = Settings()
    library = Library(settings, show_progress=False)
    store, searcher = library.store, library.searcher
    ids = [pid for pid, _, _ in store.iter_passage_texts()]
    documents = store.passage_documents(ids)
    paper_of = {pid: p.paper_id for pid, p in store.passages(ids).items()}
    papers = {p.id: p for p in store.papers()}
    row = {pid: n for n, pid in enumerate(ids)}
    model = SentenceTransformer(str(gemma_path(settings.models_dir)), device="cpu")
    vectors = {
        name: model.encode([fmt(*documents[i]) for i in ids], prompt="", batch_size=8)
        for name, fmt in FORMATS.items()
    }
    print(f"library {settings.home}: {len(ids)} passages")
    for path in sys.argv[1:]:
        queries = load_queries(Path(path))
        query_vectors = model.encode_query([q.query for q in queries])
        fused = [
            [int(f.paper_id) for f in fuse(searcher._rank(q.query, "hybrid"), None)]
            for q in queries
        ]
        print(f"\n{path} ({len(queries)} queries)")
        for name, passages in vectors.items():
            for dim in DIMS:
                docs, qs = _unit(passages[:, :dim]), _unit(query_vectors[:, :dim])
                for n in CANDIDATES:
                    ranks = {}
                    for i, query in enumerate(queries):
                        pids = ids if n == "all" else fused[i][:n]
                        scores = docs[[row[p] for p in pids]] @ qs[i]
                        ranks[query.id] = _rank(query, pids, scores, paper_of, papers)
                    print(f"  {name:<24} dim {dim:>3} N {n!s:>4}  {_summary(ranks)}")


def _rank(query, pids, scores, paper_of, papers) -> int | None:
    best: dict[str, float] = {}
    for pid, score in sorted(zip(pids, scores, strict=True), key=lambda x: -x[1]):
        best.setdefault(paper_of[pid], float(score))
    order = sorted(best, key=lambda p: -best[p])[:10]
    return next((r for r, p in enumerate(order, 1) if matches(papers.get(p), query)), None)


def _summary(ranks: dict[str, int | None]) -> str:
    n = len(ranks)
    r1 = sum(r == 1 for r in ranks.values()) / n
    r5 = sum(r is not None and r <= 5 for r in ranks.values()) / n
    mrr = sum(1 / r for r in ranks.values() if r) / n
    misses = ", ".join(f"{k}:{r or '-'}" for k, r in ranks.items() if r != 1)
    return f"R@1 {r1:.2f}  R@5 {r5:.2f}  MRR {mrr:.2f}  misses {misses}"


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


if __name__ == "__main__":
    main()
