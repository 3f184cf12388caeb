"""Where `fidelity_threshold` comes from: does a translated sentence say what its
source said? Sentence similarity (the reranker's model, its STS prompt) of
faithful translations vs garbled, reversed or unrelated ones.

    PAPERLENS_HOME=/tmp/seeds .venv/bin/python -m bench.calibrate_fidelity \
        samples/fidelity_pairs.jsonl

The pairs were written for paperlens (the garbled ones are the bundled 1.5B's
Hindi output); a threshold belongs between the two groups.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from paperlens.index.library import Library
from paperlens.ingest.config import Settings


def main(path: Path) -> None:
    settings = Settings()
    reranker = Library(settings, show_progress=False).reranker
    if reranker is None:
        sys.exit("no reranker configured: the fidelity check needs its model")
    pairs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    groups: dict[bool, list[float]] = {True: [], False: []}
    for pair in pairs:
        score = float(reranker.sentence_similarity([pair["translation"]], [pair["source"]])[0, 0])
        groups[pair["faithful"]].append(score)
        kept = "kept" if score >= settings.fidelity_threshold else "DROPPED"
        label = "faithful  " if pair["faithful"] else "unfaithful"
        print(f"{label} {pair['lang']}  {score:.3f}  {kept:<7}  {pair['translation'][:60]}")
    print(f"\nmodel {reranker.name}, threshold {settings.fidelity_threshold}")
    print(f"faithful   n={len(groups[True])}  min {min(groups[True]):.3f}")
    print(f"unfaithful n={len(groups[False])}  max {max(groups[False]):.3f}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "samples/fidelity_pairs.jsonl"))
