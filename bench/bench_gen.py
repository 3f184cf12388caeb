"""Generator runtime benchmark: the bundled model through paperlens' local server
(llama.cpp's own server from the prebuilt xllamacpp wheel, in a child process) beside
a baseline runtime in the same run.

    .venv/bin/python -m bench.bench_gen [--model qwen2.5-coder-1.5b | x.gguf]
        [--baseline-site /path/to/site-packages] [--questions ko,hi,ja] [--max-tokens 200]

The baseline is llama-cpp-python compiled on this machine (what paperlens used before),
imported from --baseline-site (a venv where `pip install llama-cpp-python` built it):
it is not a dependency of paperlens. Each question is sent to both runtimes in turn, so
both see the same load. Reported per row: prompt tokens, time to first token (TTFT),
prompt tokens/s (prompt tokens / TTFT), generated tokens/s after the first token, and
the CPU features each runtime was built for.

The prompt is the one paperlens sends (prompts.answer_messages) with six passages
written for this benchmark, rotated per question so only the system prompt is shared
with the previous call, as between two real questions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.gen_passages import PASSAGES, QUESTIONS, hits
from paperlens.assistant.llm import LOCAL_SAMPLING, local_model_path
from paperlens.assistant.local_server import LocalServer
from paperlens.assistant.prompts import answer_messages
from paperlens.ingest.config import Settings


@dataclass
class Row:
    runtime: str
    lang: str
    prompt_tokens: int
    ttft: float
    generated: int
    total: float

    @property
    def prompt_rate(self) -> float:
        return self.prompt_tokens / self.ttft if self.ttft else 0.0

    @property
    def gen_rate(self) -> float:
        decode = self.total - self.ttft
        return (self.generated - 1) / decode if self.generated > 1 and decode > 0 else 0.0

    def line(self) -> str:
        load = Path("/proc/loadavg").read_text().split()[0]
        return (
            f"{self.runtime:<18} {self.lang}  prompt {self.prompt_tokens:5d} tok  "
            f"TTFT {self.ttft:5.2f} s  prompt {self.prompt_rate:6.1f} tok/s  "
            f"gen {self.gen_rate:5.1f} tok/s  {self.generated:4d} tok in {self.total:5.1f} s"
            f"  | load {load}"
        )


def run_server(server: LocalServer, messages: list[dict], max_tokens: int, lang: str) -> Row:
    """One streamed chat completion; token counts from the server's own usage report."""
    base = server.ensure_running()
    body = {
        "model": server.name,
        "messages": messages,
        "max_tokens": max_tokens,
        "temperature": 0.2,
        "stream": True,
        "stream_options": {"include_usage": True},
        **LOCAL_SAMPLING,
    }
    headers = {"Authorization": f"Bearer {server.api_key}"}
    start, first, usage = time.perf_counter(), None, {}
    with httpx.stream(
        "POST", f"{base}/chat/completions", json=body, headers=headers, timeout=600
    ) as response:
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            usage = chunk.get("usage") or usage
            choices = chunk.get("choices") or []
            if first is None and choices and (choices[0].get("delta") or {}).get("content"):
                first = time.perf_counter() - start
    total = time.perf_counter() - start
    return Row(
        "xllamacpp server",
        lang,
        usage.get("prompt_tokens", 0),
        first or total,
        usage.get("completion_tokens", 0),
        total,
    )


def run_baseline(llama, messages: list[dict], max_tokens: int, lang: str) -> Row:
    """The same request through llama-cpp-python in this process."""
    prompt = llama.tokenize("".join(m["content"] for m in messages).encode(), add_bos=False)
    start, first, pieces = time.perf_counter(), None, []
    for chunk in llama.create_chat_completion(
        messages=messages, max_tokens=max_tokens, temperature=0.2, stream=True, **LOCAL_SAMPLING
    ):
        delta = chunk["choices"][0].get("delta", {}).get("content")
        if delta:
            first = first or time.perf_counter() - start
            pieces.append(delta)
    total = time.perf_counter() - start
    generated = len(llama.tokenize("".join(pieces).encode(), add_bos=False))
    return Row("llama-cpp-python", lang, len(prompt), first or total, generated, total)


def load_baseline(site: Path | None, model: Path, threads: int):
    if site is None:
        return None, "no baseline (pass --baseline-site)"
    sys.path.append(str(site))
    from llama_cpp import Llama, llama_print_system_info

    llama = Llama(
        model_path=str(model),
        n_ctx=4096,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,
    )
    return llama, llama_print_system_info().decode()


def server_system_info() -> str:
    code = "import xllamacpp; print(xllamacpp.get_system_info())"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    ).stdout.strip()


def summary(rows: list[Row], runtime: str) -> tuple[float, float, float]:
    mine = [r for r in rows if r.runtime == runtime]
    return (
        statistics.median(r.ttft for r in mine),
        statistics.median(r.prompt_rate for r in mine),
        statistics.median(r.gen_rate for r in mine),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="auto", help="bundled model key or .gguf path")
    parser.add_argument("--baseline-site", type=Path)
    parser.add_argument("--questions", default="ko,hi,ja,ko,hi,ja")
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    settings = Settings(local_model=args.model)
    path = local_model_path(settings)
    if path is None:
        sys.exit("no local model installed")
    print(f"model: {path.name} ({path.stat().st_size / 1e9:.2f} GB), {args.threads} threads")
    print(f"passages: {len(PASSAGES)} written for this bench; questions: {args.questions}")
    server = LocalServer(path, name=path.stem, threads=args.threads)
    start = time.perf_counter()
    server.ensure_running()
    print(f"xllamacpp server: started and healthy in {time.perf_counter() - start:.1f} s")
    print(f"  built for: {server_system_info()}")
    start = time.perf_counter()
    llama, info = load_baseline(args.baseline_site, path, args.threads)
    if llama is not None:
        print(f"llama-cpp-python: loaded in {time.perf_counter() - start:.1f} s")
    print(f"  built for: {info}")
    rows: list[Row] = []
    try:
        for rotation, lang in enumerate(args.questions.split(",")):
            messages = answer_messages(QUESTIONS[lang], hits(rotation), lang)
            runners = [lambda m=messages, g=lang: run_server(server, m, args.max_tokens, g)]
            if llama is not None:
                runners.append(
                    lambda m=messages, g=lang: run_baseline(llama, m, args.max_tokens, g)
                )
            if rotation % 2:  # alternate who goes first
                runners.reverse()
            for runner in runners:
                rows.append(runner())
                print(rows[-1].line(), flush=True)
    finally:
        server.stop()
    print("\nmedians: TTFT s, prompt tok/s, gen tok/s")
    new = summary(rows, "xllamacpp server")
    print(f"  xllamacpp server   {new[0]:5.2f}  {new[1]:6.1f}  {new[2]:5.1f}")
    if llama is not None:
        old = summary(rows, "llama-cpp-python")
        print(f"  llama-cpp-python   {old[0]:5.2f}  {old[1]:6.1f}  {old[2]:5.1f}")
        print(
            f"  ratio new/old: TTFT {new[0] / old[0]:.2f}x, prompt {new[1] / old[1]:.2f}x, "
            f"gen {new[2] / old[2]:.2f}x (target: within 1.2x)"
        )


if __name__ == "__main__":
    main()
