"""EmbeddingGemma for both search stages: the ONNX export of the bundled weights,
the runtime and precision chosen from the CPU, PyTorch until the export exists
and the switch at the first large ingest, one forward pass per passage,
ingest progress, and the move of an existing library with `reindex`."""

from __future__ import annotations

import numpy as np
import pytest

from paperlens.index import gemma_onnx
from paperlens.index.bundled_models import GEMMA_NAME as GEMMA_FOLDER
from paperlens.index.bundled_models import gemma_path
from paperlens.index.embeddings import GemmaEmbedder, first_stage_model, make_embedder
from paperlens.index.encoders import (
    ONNX_TOKEN_BUDGET,
    GemmaEncoder,
    TorchEncoder,
    choose_query_runtime,
    choose_runtime,
    gemma_encoder,
    torch_dtype,
)
from paperlens.index.gemma_onnx import (
    EXPORT_FORMAT,
    OnnxExportError,
    choose_precision,
    export_dir,
    exported,
    remove_stale_exports,
)
from paperlens.index.ingestion import Ingestor
from paperlens.index.library import Library
from paperlens.index.progress import Throughput
from paperlens.index.rerank import Candidate, EmbeddingReranker
from paperlens.index.store import IndexMismatchError
from paperlens.ingest.config import DEFAULT_EMBEDDING_MODEL, GEMMA_NAME, Settings
from paperlens.ingest.documents import SourceDoc
from paperlens.ingest.errors import PaperlensError
from tests.fixtures.papers import all_sources, paper


def test_int8_is_chosen_only_where_the_cpu_has_int8_dot_products():
    assert choose_precision("auto", {"avx2", "avx512f", "avx512_vnni"}) == "int8"
    assert choose_precision("auto", {"avx2", "amx_int8"}) == "int8"
    assert choose_precision("auto", {"avx2", "fma"}) == "float32"
    assert choose_precision("float32", {"avx512_vnni"}) == "float32"
    with pytest.raises(OnnxExportError, match="auto | int8 | float32"):
        choose_precision("int4", set())


def test_runtime_setting_is_checked_with_a_clear_error():
    assert choose_runtime("torch") == "torch"
    assert choose_runtime("auto") == "auto"
    with pytest.raises(PaperlensError, match="auto | onnx | torch"):
        choose_runtime("tensorflow")
    assert choose_query_runtime("same") == "same"
    with pytest.raises(PaperlensError, match="auto | same"):
        choose_query_runtime("onnx")


def test_the_first_stage_is_embeddinggemma_only_when_it_is_also_the_reranker(tmp_path):
    models = tmp_path / "no-models"
    assert first_stage_model(Settings(rerank_model="off")) == DEFAULT_EMBEDDING_MODEL
    absent = Settings(rerank_model=GEMMA_NAME, models_dir=models)
    assert first_stage_model(absent) == DEFAULT_EMBEDDING_MODEL
    chosen = Settings(embedding_model="my/model", rerank_model="off")
    assert first_stage_model(chosen) == "my/model"
    if gemma_path() is not None:
        assert first_stage_model(Settings(rerank_model=GEMMA_NAME)) == GEMMA_NAME


def test_asking_for_embeddinggemma_when_it_is_not_installed_names_the_fix(tmp_path):
    settings = Settings(home=tmp_path, embedding_model=GEMMA_NAME, models_dir=tmp_path / "none")
    with pytest.raises(PaperlensError, match="not installed.*PAPERLENS_EMBEDDING_MODEL"):
        make_embedder(settings)


def test_throughput_gives_rate_and_time_left():
    now = [100.0]
    meter = Throughput(clock=lambda: now[0])
    assert meter.describe(0, 50) == "0/50 passages"
    now[0] = 110.0
    assert meter.describe(20, 50) == "20/50 passages, 2.0/s, about 15 s left"
    assert meter.describe(20, 2000).endswith("about 16 min 30 s left")
    assert meter.time_left(20, 50) == "15 s" and Throughput().time_left(0, 5) is None


# ---- the real runtime on the bundled model -------------------------------------------


@pytest.fixture(scope="module")
def onnx_encoder() -> GemmaEncoder:
    """The process's shared encoder on ONNX Runtime (exported first if needed: minutes)."""
    if gemma_path() is None:
        pytest.skip("EmbeddingGemma is not installed (`make install` assembles it)")
    encoder = gemma_encoder(None, runtime="onnx")
    assert encoder.name == f"onnx-{choose_precision()}"
    encoder.passage_encoder()  # exports now if needed, loads the session
    return encoder


@pytest.mark.slow
def test_onnx_batches_fewer_long_passages_than_short_ones_with_the_same_vectors(
    onnx_encoder, monkeypatch
):
    runtime = onnx_encoder.passage_encoder()  # ONNX Runtime, behind the shared encoder
    real_run = runtime._run
    batches: list[list[str]] = []

    def recording(batch):  # a spy: the real model runs every batch
        batches.append(batch)
        return real_run(batch)

    monkeypatch.setattr(runtime, "_run", recording)
    short = [f"Note {n}: sparse attention over {n + 2} windows." for n in range(24)]
    long = [
        f"Section {n}. " + "Pruning attention heads keeps accuracy on long documents. " * 30
        for n in range(3)
    ]
    runtime.forget()
    together = onnx_encoder.encode(short + long)
    tokens = {
        text: count for b in batches for text, count in zip(b, runtime._lengths(b), strict=True)
    }
    assert max(len(b) for b in batches) > 4  # short entries still share batches
    for batch in batches:  # a long passage runs with fewer companions, alone if need be
        assert len(batch) == 1 or len(batch) * max(tokens[t] for t in batch) <= ONNX_TOKEN_BUDGET
    runtime.forget()
    alone = np.vstack([onnx_encoder.encode([text]) for text in short[:3] + long[:1]])
    picked = together[[0, 1, 2, len(short)]]
    # int8 activations are scaled per token (index/int8_per_token.py), so a passage's
    # vector does not depend on its batch companions (per batch it moved to ~0.995).
    assert np.min(np.sum(alone * picked, axis=1)) > 0.9995


def test_a_new_export_format_removes_the_older_exports_of_its_precision(tmp_path):
    model_dir = tmp_path / "embeddinggemma-300m"
    current = export_dir(model_dir, "int8")
    older = current.parent / f"int8-v{EXPORT_FORMAT - 1}"
    kept = [current, current.parent / f"float32-v{EXPORT_FORMAT - 1}"]  # another precision
    for folder in [older, *kept]:
        folder.mkdir(parents=True)
        (folder / "model.onnx").write_bytes(b"graph")
    assert remove_stale_exports(model_dir, "int8") == [older]
    assert not older.exists() and all(folder.exists() for folder in kept)


class _Cache:
    """An in-memory vector cache (the catalog's embed_cache speaks the same two calls)."""

    def __init__(self) -> None:
        self.vectors: dict[str, np.ndarray] = {}

    def cached_vectors(self, keys):
        return {k: self.vectors[k] for k in keys if k in self.vectors}

    def cache_vectors(self, items):
        self.vectors.update(items)


@pytest.mark.slow
def test_the_export_is_cached_next_to_the_bundled_weights(onnx_encoder):
    graph = exported(gemma_path(), choose_precision())
    assert graph is not None and graph.exists()
    assert onnx_encoder.name == f"onnx-{choose_precision()}"


@pytest.mark.slow
def test_onnx_vectors_match_pytorch_float32_closely(onnx_encoder):
    texts = [
        "title: Attention Is All You Need | text: The Transformer relies only on attention.",
        "title: none | text: 잔차 연결 덕분에 아주 깊은 신경망도 학습할 수 있다.",
        "task: search result | query: low-rank adapters for fine-tuning",
    ]
    reference = TorchEncoder(str(gemma_path()), dtype="float32").encode(texts)
    vectors = onnx_encoder.encode(texts)
    assert vectors.shape == (3, 768)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    cosines = (vectors * reference).sum(axis=1)
    floor = 0.999 if onnx_encoder.name == "onnx-float32" else 0.995
    assert cosines.min() >= floor, cosines


@pytest.mark.slow
def test_queries_run_at_the_reference_precision_while_passages_run_on_int8(onnx_encoder):
    if onnx_encoder.name != "onnx-int8":
        pytest.skip("this CPU runs ONNX float32, where queries share the passages' runtime")
    prompt = onnx_encoder.prompts["query"]
    query = "how do low-rank adapters cut the trainable parameters?"
    dtype = torch_dtype("auto")
    reference = TorchEncoder(str(gemma_path()), dtype=dtype).encode([query], prompt=prompt)
    assert onnx_encoder.query_name.startswith("torch")
    np.testing.assert_allclose(onnx_encoder.encode([query], prompt=prompt), reference, atol=1e-5)
    same = GemmaEncoder(
        gemma_path(), runtime="onnx", precision="int8", dtype=dtype, batch_size=0,
        query_runtime="same",
    )  # fmt: skip
    assert same.query_name == "onnx-int8"
    int8 = same.encode([query], prompt=prompt)
    assert 0.99 < float((int8 @ reference.T)[0, 0]) < 0.99999  # close, not the same computation


@pytest.mark.slow
def test_one_forward_pass_serves_the_first_stage_and_the_reranker(onnx_encoder):
    embedder = GemmaEmbedder(onnx_encoder, dim=256)
    reranker = EmbeddingReranker(onnx_encoder, model=GEMMA_NAME, cache=_Cache())
    parts = [("Deep Residual Learning", f"Passage number {n} about residual blocks.")
             for n in range(5)]  # fmt: skip
    first = embedder.embed_passages([embedder.document(h, t) for h, t in parts])
    assert first.shape == (5, 256)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-4)
    computed: list[int] = []
    reranker.prepare([Candidate(n, h, t) for n, (h, t) in enumerate(parts)], computed.append)
    assert computed == []  # every vector came from the first stage's pass


@pytest.mark.slow
def test_gemma_alone_finds_the_paper_across_languages(tmp_path, onnx_encoder):
    settings = Settings(home=tmp_path, rerank_model=GEMMA_NAME)
    library = Library(settings, show_progress=False)
    assert isinstance(library.embedder, GemmaEmbedder)
    seen: list[tuple[int, int]] = []
    ingestor = Ingestor(
        library.store,
        library.embedder,
        settings,
        show_progress=False,
        prepare_rerank=library.prepare_rerank,
        on_progress=lambda done, total: seen.append((done, total)),
    )
    for source in all_sources():
        ingestor.ingest_doc(source)
    assert seen and all(done <= total for done, total in seen)
    for mode in ("dense", "rerank"):
        hits = library.searcher.search("强化学习中裁剪策略更新幅度的方法", k=3, mode=mode)
        assert hits[0].arxiv_id == "1707.06347", mode


def ten_paper_digest() -> SourceDoc:
    papers = [
        paper(f"Study {n} of sparse attention", None, "en",
              f"Finding {n}: attending to {n * 3} neighbouring tokens keeps accuracy at lower cost.")
        for n in range(10)
    ]  # fmt: skip
    return SourceDoc(uri="test://ten", sha256="ten-1", kind="digest", papers=papers)


@pytest.mark.slow
def test_an_interrupted_gemma_ingest_resumes_from_the_cache(tmp_path, onnx_encoder, monkeypatch):
    settings = Settings(
        home=tmp_path, rerank_model=GEMMA_NAME, model_runtime="onnx", embed_batch_size=2
    )
    library = Library(settings, show_progress=False)
    runtime = onnx_encoder.passage_encoder()  # ONNX Runtime, behind the shared encoder
    real_run = runtime._run
    before_crash: list[int] = []

    def crash_after_two_batches(batch):  # a fake only for the failure: the process dies
        if len(before_crash) == 2:
            raise KeyboardInterrupt
        before_crash.append(len(batch))
        return real_run(batch)

    onnx_encoder.forget()
    monkeypatch.setattr(runtime, "_run", crash_after_two_batches)
    ingestor = Ingestor(library.store, library.embedder, settings, show_progress=False)
    with pytest.raises(KeyboardInterrupt):
        ingestor.ingest_doc(ten_paper_digest())
    assert library.store.stats()["papers"] == 0  # nothing half-written

    onnx_encoder.forget()  # a new process remembers nothing
    resumed: list[int] = []
    monkeypatch.setattr(runtime, "_run", lambda b: (resumed.append(len(b)), real_run(b))[1])
    outcome = ingestor.ingest_doc(ten_paper_digest())
    assert outcome.passages == 10 and sum(before_crash) == 4
    assert sum(resumed) == 6  # only what the crash had not cached


@pytest.mark.slow
def test_an_e5_library_asks_for_reindex_then_moves_to_gemma(tmp_path, embedder, onnx_encoder):
    home = tmp_path / "lib"
    old = Library(Settings(home=home, rerank_model="off"), show_progress=False)
    old.__dict__["embedder"] = embedder
    Ingestor(old.store, embedder, old.settings, show_progress=False).ingest_doc(all_sources()[0])
    old.store.close()

    new = Library(Settings(home=home, rerank_model=GEMMA_NAME), show_progress=False)
    with pytest.raises(IndexMismatchError, match="paperlens reindex"):
        _ = new.store
    lines: list[str] = []
    count = new.reindex(on_event=lines.append)
    assert count > 0 and DEFAULT_EMBEDDING_MODEL in lines[0] and GEMMA_NAME in lines[0]
    assert new.store.manifest()["embedding_model"] == new.embedder.name
    assert new.searcher.search("layer normalization", k=1)


def models_without_export(tmp_path):
    """A models folder holding the bundled weights but no ONNX export (a new install)."""
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / GEMMA_FOLDER).symlink_to(gemma_path())
    return folder


def give_export(models, precision: str) -> None:
    """Make the (already exported) ONNX graph visible from `models`, as the export would."""
    made = export_dir(gemma_path(), precision)
    target = export_dir(models / GEMMA_FOLDER, precision)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(made)


@pytest.mark.slow
def test_a_new_install_embeds_with_pytorch_until_a_large_ingest_exports(tmp_path, onnx_encoder):
    models = models_without_export(tmp_path)
    settings = Settings(
        home=tmp_path / "lib", models_dir=models, rerank_model=GEMMA_NAME, onnx_export_after=8
    )
    library = Library(settings, show_progress=False)
    encoder = gemma_encoder(models)
    assert encoder.name.startswith("torch")  # no export: nothing to wait for
    ingestor = Ingestor(
        library.store, library.embedder, settings,
        show_progress=False, prepare_rerank=library.prepare_rerank,
    )  # fmt: skip
    ingestor.ingest_doc(all_sources()[0])  # fewer passages than onnx_export_after
    assert encoder.name.startswith("torch")

    give_export(models, choose_precision())  # what the export leaves (made by the fixture)
    outcome = ingestor.ingest_doc(ten_paper_digest())  # 10 passages to embed: worth it
    assert outcome.passages == 10
    assert encoder.name == f"onnx-{choose_precision()}"
    # One index for both runtimes: papers embedded with PyTorch are still found.
    assert library.store.manifest()["embedding_model"] == f"{GEMMA_NAME}@256"
    hits = library.searcher.search(
        "normalize with the mean and variance of one sample's neurons, not the batch", k=3
    )
    assert hits[0].arxiv_id == "1607.06450"
    hits = library.searcher.search("attending to 27 neighbouring tokens", k=1)
    assert hits[0].title == "Study 9 of sparse attention"


@pytest.mark.slow
def test_runtime_torch_never_exports(tmp_path):
    if gemma_path() is None:
        pytest.skip("EmbeddingGemma is not installed (`make install` assembles it)")
    models = models_without_export(tmp_path)
    settings = Settings(
        home=tmp_path / "lib", models_dir=models, rerank_model=GEMMA_NAME,
        model_runtime="torch", onnx_export_after=1,
    )  # fmt: skip
    library = Library(settings, show_progress=False)
    Ingestor(library.store, library.embedder, settings, show_progress=False).ingest_doc(
        ten_paper_digest()
    )
    assert gemma_encoder(models, runtime="torch").name.startswith("torch")
    assert not export_dir(models / GEMMA_FOLDER, choose_precision()).exists()


@pytest.mark.slow
def test_without_memory_for_the_export_a_large_ingest_stays_on_pytorch_and_says_why(
    tmp_path, monkeypatch, capsys
):
    if gemma_path() is None:
        pytest.skip("EmbeddingGemma is not installed (`make install` assembles it)")
    monkeypatch.setattr(gemma_onnx, "EXPORT_MEMORY_BYTES", 2**60)
    models = models_without_export(tmp_path)
    settings = Settings(
        home=tmp_path / "lib", models_dir=models, rerank_model=GEMMA_NAME, onnx_export_after=1
    )
    library = Library(settings, show_progress=False)
    outcome = Ingestor(library.store, library.embedder, settings, show_progress=False).ingest_doc(
        ten_paper_digest()
    )
    assert outcome.passages == 10
    assert gemma_encoder(models).name.startswith("torch")
    assert "free memory" in capsys.readouterr().err
    assert not export_dir(models / GEMMA_FOLDER, choose_precision()).exists()

    # Through the library with a listener (the app's Library tab, the CLI), the
    # reason reaches the ingest's events instead of a terminal nobody watches.
    digest = tmp_path / "more.md"
    digest.write_text(
        "\n".join(
            f"- [Study {n} of token pruning](https://arxiv.org/abs/2401.{n:05d}): "
            f"pruning {n * 4} tokens per layer keeps accuracy."
            for n in range(10)
        ),
        encoding="utf-8",
    )
    events: list[str] = []
    report = library.ingest([str(digest)], pdfs=False, on_event=events.append)
    assert report.succeeded
    assert any("free memory" in e and "stays on PyTorch" in e for e in events), events


@pytest.mark.slow
def test_a_folder_of_small_sources_is_one_large_job_for_the_export(tmp_path, onnx_encoder):
    """No file reaches onnx_export_after, all of them together do: the export is
    for the job, as for a folder of PDFs of ~100 passages each."""
    models = models_without_export(tmp_path)
    settings = Settings(
        home=tmp_path / "lib", models_dir=models, rerank_model=GEMMA_NAME, onnx_export_after=10
    )
    library = Library(settings, show_progress=False)
    encoder = gemma_encoder(models)
    assert encoder.name.startswith("torch")
    give_export(models, choose_precision())  # what the export leaves (made by the fixture)
    folder = tmp_path / "digests"
    folder.mkdir()
    for week in range(3):
        (folder / f"week{week}.md").write_text(
            "\n".join(
                f"- [Study {week}-{n} of token merging](https://arxiv.org/abs/2402.{week}{n:04d}): "
                f"merging {n + 2} similar tokens per layer in week {week} keeps accuracy."
                for n in range(4)
            ),
            encoding="utf-8",
        )
    report = library.ingest([str(folder)], pdfs=False)
    assert [o.passages for o in report.outcomes] == [4, 4, 4]
    assert encoder.name == f"onnx-{choose_precision()}"
