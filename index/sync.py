"""Keep a FAISS index in step with the catalog through its change log.

Every insert, delete or vector update of a passage appends a row to the
catalog's `changes` table (SQLite triggers, so no write path can forget),
in the same transaction as the change. A checkpoint file records the last
`seq` it reflects; catching up replays the keys touched after it: remove
them, re-add those that still exist, with their current vectors. Replay is
idempotent, so a file newer than its stamp, or two threads racing, is harmless.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import numpy as np

from paperlens.index.vectors import AnnIndex, IndexSpec, build_threads

Vectors = tuple[np.ndarray, np.ndarray]  # (int64 ids, float32 vectors)
CHECKPOINT_LAG = 5_000  # replayed changes after which a checkpoint is written


class ChangeLog(Protocol):
    """The catalog's change log (index/vector_rows.py's `VectorTables`)."""

    def log_bounds(self) -> tuple[int, int]: ...

    def changed_keys(self, column: str, after: int, through: int) -> list[int]: ...


class SyncedIndex:
    """One derived index: `key` names the change-log column it follows."""

    def __init__(
        self,
        *,
        path: Path,
        stamp: dict,
        dim: int,
        key: str,
        log: ChangeLog,
        fetch: Callable[[list[int]], Vectors],
        scan: Callable[[], Iterator[Vectors]],
        count: Callable[[], int],
    ) -> None:
        self.path, self.stamp, self.dim, self.key = path, stamp, dim, key
        self._log, self._fetch, self._scan, self._count = log, fetch, scan, count
        self._lock = threading.Lock()
        self._saved_seq = -1
        self.ann = AnnIndex.load(path, stamp)
        if self.ann is not None:
            self._saved_seq = self.ann.seq

    def current(self) -> AnnIndex:
        """The index, caught up with every committed change."""
        with self._lock:
            if self.ann is None:
                self.ann = self._build(None)
                self.save()
            head, low = self._log.log_bounds()
            if head != self.ann.seq:
                if low > self.ann.seq + 1:  # another process truncated what we still need
                    self.ann = AnnIndex.load(self.path, self.stamp) or self._build(None)
                self._replay(head)
            if self.ann.seq - self._saved_seq >= CHECKPOINT_LAG:
                self.save()
            return self.ann

    def rebuild(self, spec: IndexSpec | None = None) -> AnnIndex:
        """A full build (trains an IVF quantizer when the size calls for one)."""
        with self._lock:
            self.ann = self._build(spec)
            self.save()
            return self.ann

    def save(self) -> None:
        if self.ann is not None and self._saved_seq != self.ann.seq:
            self.ann.save(self.path, self.stamp)
            self._saved_seq = self.ann.seq

    def _replay(self, head: int) -> None:
        keys = self._log.changed_keys(self.key, self.ann.seq, head)
        ids, vectors = self._fetch(keys)
        self.ann.upsert(ids, vectors, remove=np.asarray(keys, dtype=np.int64))
        self.ann.seq = head

    def _build(self, spec: IndexSpec | None) -> AnnIndex:
        head, _ = self._log.log_bounds()  # changes during the scan are replayed later
        spec = spec or IndexSpec.for_size(self._count())
        ann = AnnIndex.empty(spec, self.dim, seq=head)
        with build_threads():
            if spec.needs_training:
                ann.train(self._training_sample(spec.training_size))
            for ids, vectors in self._scan():
                ann.upsert(ids, vectors, remove=np.zeros(0, np.int64))
        return ann

    def _training_sample(self, size: int) -> np.ndarray:
        """An evenly spread sample: every n-th vector of the scan."""
        step = max(1, self._count() // size)
        rows = [vectors[::step].copy() for _, vectors in self._scan()]  # not views of chunks
        return np.vstack(rows) if rows else np.zeros((0, self.dim), np.float32)
