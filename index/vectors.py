"""FAISS files derived from the catalog: built, stamped, written atomically.

The stamp records the catalog generation and model the file was built from;
a file whose stamp does not match is stale (e.g. a crash between the catalog
commit and the file write) and is rebuilt from the catalog's vectors.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

VectorSource = Callable[[], tuple[np.ndarray, np.ndarray]]  # -> (int64 ids, float32 vectors)


def load_or_build(
    path: Path, *, generation: int, model: str, dim: int, build: VectorSource
) -> faiss.IndexIDMap2:
    """The index at `path` if it is current, else a fresh one from `build()`."""
    stamp = path.with_suffix(".json")
    wanted = {"generation": generation, "model": model}
    if path.exists() and stamp.exists():
        try:
            if json.loads(stamp.read_text()) == wanted:
                return faiss.read_index(str(path))
        except (ValueError, RuntimeError):
            pass  # unreadable stamp or index: rebuild below
    ids, vectors = build()
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    if len(ids):
        index.add_with_ids(vectors, ids)
    write_atomic(path, lambda tmp: faiss.write_index(index, str(tmp)))
    write_atomic(stamp, lambda tmp: tmp.write_text(json.dumps(wanted)))
    return index


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temp file in the same folder, then rename over `path`."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
