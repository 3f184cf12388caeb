"""Ingestor.embed_passages: batches by length, answers in input order."""

from __future__ import annotations

import numpy as np


def test_vectors_come_back_in_input_order_for_mixed_lengths(ingestor, embedder):
    texts = [
        "a long passage about attention sinks " * 12,
        "short",
        "a medium passage on rotary position embeddings and caches",
        "short",  # a duplicate is embedded once and answered twice
        "x",
    ]
    ingestor.settings.embed_batch_size = 2
    vectors = ingestor.embed_passages(texts)
    expected = np.vstack([embedder.embed_passages([t]) for t in texts])
    assert vectors.shape == expected.shape
    assert np.allclose(vectors, expected, atol=1e-4)
