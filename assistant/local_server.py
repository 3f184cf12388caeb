"""The offline generator as a process of its own: llama.cpp's OpenAI-compatible server.

The model runs in a child process (the prebuilt `xllamacpp` wheel embeds llama.cpp's
own server), never inside the app: a fault in native code kills that child, not the
app serving every user. paperlens starts it on loopback with a free port and a random
API key, waits for its health check, restarts it when it has died, and stops it when
paperlens exits (atexit; after a kill -9, the child sees it was re-parented).

Run as `python -m paperlens.assistant.local_server` it is the child: it reads its options from
the environment (the API key never appears in `ps`), serves, and exits on SIGTERM.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from paperlens.index.machine import available_memory, cpu_flags
from paperlens.ingest.errors import PaperlensError

GGUF_MAGIC = b"GGUF"
READY_TIMEOUT = 180.0  # loading a 1 GB model from a cold disk on 2 cores takes ~5 s
LOG_TAIL_LINES = 4
# Memory the model needs beyond its file: KV cache (4k tokens) and compute buffers of
# a ~1.5B model, measured with bench/bench_gen.py (docs/answers.md#generator).
RUNTIME_OVERHEAD_BYTES = 400 << 20

_ENV_PREFIX = "PAPERLENS_SERVER_"


class GeneratorUnavailable(PaperlensError):
    """The local generator cannot start (missing or corrupt model, no memory, no CPU support)."""


def check_model_file(path: Path) -> None:
    """A GGUF that exists and looks like one; else a message that says which."""
    if not path.is_file():
        raise GeneratorUnavailable(f"model file not found: {path}")
    with open(path, "rb") as handle:
        if handle.read(4) != GGUF_MAGIC:
            raise GeneratorUnavailable(f"{path} is not a GGUF model file")


def check_memory(path: Path) -> None:
    """Refuse to start a model that cannot fit in the memory available now."""
    available = available_memory()
    needed = path.stat().st_size + RUNTIME_OVERHEAD_BYTES
    if available is not None and available < needed:
        raise GeneratorUnavailable(
            f"not enough memory for {path.name}: needs ~{needed >> 20} MB, "
            f"{available >> 20} MB available"
        )


def check_cpu() -> None:
    """The prebuilt runtime needs AVX2 (x86-64-v3); older CPUs would die on SIGILL."""
    flags = cpu_flags()
    if flags and "avx2" not in flags:  # unknown (no /proc/cpuinfo): let it try
        raise GeneratorUnavailable(
            "this CPU lacks AVX2, which the prebuilt llama.cpp runtime needs; "
            "point PAPERLENS_LLM_BASE_URL at an OpenAI-compatible server instead"
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalServer:
    """One llama.cpp server child process serving one GGUF model on loopback."""

    def __init__(
        self,
        model_path: Path,
        *,
        name: str,
        threads: int,
        ctx_tokens: int = 4096,
        log_path: Path | None = None,
    ) -> None:
        self.model_path = model_path
        self.name = name
        self.threads = threads
        self.ctx_tokens = ctx_tokens
        self.log_path = log_path
        self.api_key = secrets.token_urlsafe(24)
        self.port: int | None = None
        self.starts = 0  # how many times a child was started (1 + restarts)
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()
        atexit.register(self.stop)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def exited(self, within: float) -> bool:
        """Whether the child has exited or does within `within` seconds (a connection
        that broke because it was killed can be seen before the kill completes)."""
        if self._process is None:
            return True
        try:
            self._process.wait(timeout=within)
        except subprocess.TimeoutExpired:
            return False
        return True

    def ensure_running(self) -> str:
        """Start (or restart after a crash) the child; return its base URL once healthy."""
        with self._lock:
            if not self.alive():
                self._start()
            return self.base_url

    def stop(self) -> None:
        """Terminate the child and wait for it (kill if it does not exit in 10 s)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _start(self) -> None:
        check_model_file(self.model_path)
        check_cpu()
        check_memory(self.model_path)
        for _attempt in range(3):  # a port taken between our probe and the child's bind
            self.port = free_port()
            process = self._process = self._spawn()
            self.starts += 1
            try:
                self._wait_ready(process)
                return
            except _PortTaken:
                self.stop()
        raise GeneratorUnavailable("could not find a free loopback port for the local model")

    def _spawn(self) -> subprocess.Popen:
        env = dict(os.environ)
        env.update(
            {
                f"{_ENV_PREFIX}MODEL": str(self.model_path),
                f"{_ENV_PREFIX}PORT": str(self.port),
                f"{_ENV_PREFIX}API_KEY": self.api_key,
                f"{_ENV_PREFIX}THREADS": str(self.threads),
                f"{_ENV_PREFIX}CTX": str(self.ctx_tokens),
                f"{_ENV_PREFIX}ALIAS": self.name,
                f"{_ENV_PREFIX}PARENT": str(os.getpid()),
                # llama.cpp's OpenMP threads spin while waiting by default; on 2 shared cores
                # the spinning thread starved the working one (docs/answers.md#generator).
                "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE"),
            }
        )
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            return subprocess.Popen(
                [sys.executable, "-m", "paperlens.assistant.local_server"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        finally:
            if log is not subprocess.DEVNULL:
                log.close()

    def _wait_ready(self, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self._process is not process:  # stop() ran meanwhile (paperlens is exiting)
                raise GeneratorUnavailable(f"the local model {self.name} was stopped")
            code = process.poll()
            if code is not None:
                tail = self._log_tail()
                if "bind" in tail.lower() or "address already in use" in tail.lower():
                    raise _PortTaken
                raise GeneratorUnavailable(
                    f"the local model {self.name} failed to start (exit {code})"
                    + (f": {tail}" if tail else "")
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise GeneratorUnavailable(
            f"the local model {self.name} did not start in {READY_TIMEOUT:.0f} s"
        )

    def _log_tail(self) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        lines = self.log_path.read_text(errors="replace").splitlines()
        errors = [ln for ln in lines if " E " in ln or "error" in ln.lower()]
        return " | ".join((errors or lines)[-LOG_TAIL_LINES:]).strip()


class _PortTaken(Exception):
    pass


# ---- the child ------------------------------------------------------------------------


def _serve() -> None:
    import xllamacpp

    env = os.environ
    params = xllamacpp.CommonParams()
    params.model.path = env[f"{_ENV_PREFIX}MODEL"]
    params.model_alias = env.get(f"{_ENV_PREFIX}ALIAS", "local")
    params.hostnames = ["127.0.0.1"]
    params.port = int(env[f"{_ENV_PREFIX}PORT"])
    params.api_keys = [env[f"{_ENV_PREFIX}API_KEY"]]
    params.n_ctx = int(env[f"{_ENV_PREFIX}CTX"])
    params.n_parallel = 1  # one 4k context; the app queues questions (docs/app.md)
    threads = int(env[f"{_ENV_PREFIX}THREADS"])
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.use_jinja = True  # the chat template stored in the GGUF
    params.ui = False
    params.endpoint_slots = False
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    parent = int(env.get(f"{_ENV_PREFIX}PARENT", os.getppid()))
    threading.Thread(target=_exit_with_parent, args=(parent, done), daemon=True).start()
    server = xllamacpp.Server(params)
    try:
        done.wait()
    finally:
        del server  # stops the HTTP loop and frees the model


def _exit_with_parent(parent: int, done: threading.Event) -> None:
    """Stop serving when paperlens is gone, even after a kill -9 (no atexit ran): the
    child is then re-parented. (The kernel's parent-death signal fires when the
    *thread* that started the child ends, e.g. the app's warm-up thread: not usable.)"""
    while not done.wait(0.5):
        if os.getppid() != parent:
            done.set()


if __name__ == "__main__":
    _serve()
