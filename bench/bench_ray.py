"""`ingest --ray` beside a plain ingest, same sources, same run.

    flock /tmp/heavy.lock nice -n 10 .venv/bin/python -m bench.bench_ray \\
        [--seeds ../shared/corpus/seeds] [--pdfs ../shared/corpus/real/pdfs] \\
        [--workers 1 2] [--rerank]

Sources: every digest in --seeds and every PDF in --pdfs, in that order, each
into a fresh data directory (no arXiv links followed):

1. a plain ingest (the baseline);
2. `ingest --ray` on a local Ray cluster of this machine's cores, once per
   --workers value; each run starts its cluster and stops it (counted in its
   wall time);
3. the Ray overhead on a small source: the smallest digest alone, plain vs Ray
   with one worker, and a cluster start + stop on its own.

Each Ray library is compared with the plain one: the same papers (id, title,
titles, arXiv id), the same passages (paper, kind, language, page, text, in
order) and their vectors (largest absolute difference). The reranker is off
unless --rerank (EmbeddingGemma's passage vectors at ~2.3/s on 2 cores would
dominate every figure); the models are loaded once per process, not counted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from paperlens.index.embeddings import make_embedder
from paperlens.index.library import Library
from paperlens.index.ray_cluster import ClusterOptions, import_ray
from paperlens.ingest.config import Settings

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def main() -> None:
    args = parse_args()
    os.environ.setdefault("PAPERLENS_DISCOVER_SERVERS", "false")
    os.environ.setdefault("PAPERLENS_LOCAL_LLM", "off")
    base = Settings(rerank_model="embeddinggemma-300m" if args.rerank else "off")
    embedder = make_embedder(base)
    seeds = sorted(str(p) for p in Path(args.seeds).glob("*") if p.is_file())
    pdfs = sorted(str(p) for p in Path(args.pdfs).glob("*.pdf"))
    sources = seeds + pdfs
    print(f"data: {len(seeds)} digests from {args.seeds}, {len(pdfs)} PDFs from {args.pdfs}")
    print(f"machine: {os.cpu_count()} cores; load average at start {load()}")
    print(f"reranker: {'on' if args.rerank else 'off'}; embedding model: {embedder.name}\n")

    work = Path(tempfile.mkdtemp(prefix="bench_ray_"))
    try:
        plain, plain_s = timed_ingest(work / "plain", base, embedder, sources, None)
        passages = count_passages(plain)
        rows = [("plain ingest (baseline)", plain_s, passages, "-")]
        for workers in args.workers:
            options = ClusterOptions(workers=workers)
            lib, seconds = timed_ingest(work / f"ray{workers}", base, embedder, sources, options)
            rows.append((f"ingest --ray, {workers} worker(s)", seconds, passages, same(plain, lib)))
        print(f"{len(sources)} sources, {passages} passages, {count_papers(plain)} papers")
        table(rows)
        overhead(work, base, embedder, min(seeds, key=os.path.getsize))
        print(f"\nload average at end {load()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def timed_ingest(home, base, embedder, sources, options) -> tuple[Library, float]:
    lib = Library(base.model_copy(update={"home": home}), show_progress=False)
    lib.__dict__["embedder"] = embedder
    notes: list[str] = []
    start = time.perf_counter()
    report = lib.ingest(sources, pdfs=False, cluster=options, on_event=notes.append)
    seconds = time.perf_counter() - start
    failed = [o.error for o in report.outcomes if o.status == "failed"]
    for error in failed:
        print(f"  failed: {error}")
    for note in report.notes:
        print(f"  note ({'ray' if options else 'plain'}): {note}")
    return lib, seconds


def overhead(work: Path, base: Settings, embedder, small: str) -> None:
    """The price of Ray on one small source, and of a cluster start + stop alone."""
    plain_lib, plain_s = timed_ingest(work / "small_plain", base, embedder, [small], None)
    ray_lib, ray_s = timed_ingest(
        work / "small_ray", base, embedder, [small], ClusterOptions(workers=1)
    )
    ray = import_ray()
    start = time.perf_counter()
    ray.init(address="local", include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    ray.shutdown()
    bare = time.perf_counter() - start
    passages = count_passages(plain_lib)
    print(f"\nRay overhead on a small source ({Path(small).name}, {passages} passages):")
    table(
        [
            ("plain ingest", plain_s, passages, "-"),
            ("ingest --ray, 1 worker", ray_s, passages, same(plain_lib, ray_lib)),
        ]
    )
    print(f"overhead {ray_s - plain_s:+.1f} s; a local cluster's start + stop alone: {bare:.1f} s")


def table(rows) -> None:
    print(f"| {'run':<32} | wall s | passages/s | vs plain | same library |")
    print(f"| {'-' * 32} | -----: | ---------: | -------: | ------------ |")
    baseline = rows[0][1]
    for name, seconds, passages, verdict in rows:
        print(
            f"| {name:<32} | {seconds:6.1f} | {passages / seconds:10.2f} "
            f"| {baseline / seconds:7.2f}x | {verdict} |"
        )


def same(plain: Library, other: Library) -> str:
    """Same papers, passages and vectors? With the largest vector difference."""
    a_papers, a_rows, a_vectors = library_rows(plain)
    b_papers, b_rows, b_vectors = library_rows(other)
    if a_papers != b_papers:
        return f"NO: papers differ ({len(a_papers)} vs {len(b_papers)})"
    if a_rows != b_rows:
        return f"NO: passages differ ({len(a_rows)} vs {len(b_rows)})"
    diff = float(np.abs(a_vectors - b_vectors).max()) if len(a_vectors) else 0.0
    return f"yes (max vector diff {diff:.1e})"


def library_rows(lib: Library) -> tuple[list, list, np.ndarray]:
    store = lib.store
    papers = sorted((p.id, p.arxiv_id, p.title, sorted(p.titles.items())) for p in store.papers())
    rows, vectors = [], []
    for paper_id in sorted(p[0] for p in papers):
        rows += [
            (p.paper_id, p.kind, p.lang, p.page, p.text) for p in store.paper_passages(paper_id)
        ]
        ids, paper_vectors = store.passage_vectors(paper_id)
        vectors.append(paper_vectors[np.argsort(ids)])
    return papers, rows, np.vstack(vectors) if vectors else np.zeros((0, 0))


def count_passages(lib: Library) -> int:
    return int(lib.store.stats()["passages"])


def count_papers(lib: Library) -> int:
    return int(lib.store.stats()["papers"])


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default=str(CORPUS / "seeds"))
    parser.add_argument("--pdfs", default=str(CORPUS / "real" / "pdfs"))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rerank", action="store_true", help="also the reranker's vectors")
    return parser.parse_args()


if __name__ == "__main__":
    main()
