"""App benchmark on loopback: start-up on a fresh data dir, then 20 concurrent users.

    .venv/bin/python bench/bench_app.py [--users 20] [--questions 3] [--llm]

1. `python app.py` on an empty PAPERLENS_HOME: seconds to the first page
   served, to "ready" (bundled samples indexed), and to the first answer.
2. N simulated users (gradio_client, one client each) asking questions at
   once through the Ask endpoint: p50/p95 latency and errors. Retrieval-only
   answers by default (the app's own cost); `--llm` uses the local generator,
   which is serialized on 2 cores. Baseline in the same run: the same
   questions asked one at a time.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gradio_client import Client

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "LoRA는 어떻게 학습 파라미터 수를 줄이나요?",
    "アテンションシンクとは何ですか？",
    "Comment le Transformer remplace-t-il la récurrence ?",
    "DPR और BM25 में क्या अंतर है?",
    "What does Mamba change compared to attention?",
    "ColBERT 和 DPR 有什么区别？",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, seconds: float) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        if check():
            return time.perf_counter() - start
        time.sleep(0.1)
    raise TimeoutError("gave up waiting")


def page_served(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def ask(url: str, question: str) -> float:
    client = Client(url, verbose=False)
    start = time.perf_counter()
    client.predict(question, [], "auto", api_name="/on_ask")
    return time.perf_counter() - start


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):6.2f} s   p95 {p95:6.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--questions", type=int, default=3)
    parser.add_argument("--llm", action="store_true")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="paperlens-app-bench-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {
        **os.environ,
        "PAPERLENS_HOME": str(home),
        "PAPERLENS_PORT": str(port),
        "PAPERLENS_LOCAL_LLM": "auto" if args.llm else "off",
    }
    start = time.perf_counter()
    app = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: page_served(url), 120)
        served = time.perf_counter() - start
        status = Client(url, verbose=False)
        wait_until(lambda: status.predict(api_name="/lambda").startswith("ready"), 900)
        ready = time.perf_counter() - start
        first_answer = ask(url, QUESTIONS[0])
        print(f"## 1. Start-up on a fresh data dir ({home})")
        print(
            f"  first page served {served:6.1f} s; ready (samples indexed) {ready:6.1f} s; "
            f"first answer {ready + first_answer:6.1f} s ({first_answer:.2f} s to answer)"
        )

        jobs = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.users * args.questions)]
        sequential = [ask(url, q) for q in QUESTIONS]
        errors = 0
        with ThreadPoolExecutor(max_workers=args.users) as pool:
            futures = [pool.submit(ask, url, q) for q in jobs]
            latencies = []
            for future in futures:
                try:
                    latencies.append(future.result(timeout=900))
                except Exception:  # the benchmark counts failures, whatever they are
                    errors += 1
        mode = "local generator" if args.llm else "retrieval-only answers"
        print(f"## 2. {args.users} concurrent users x {args.questions} questions ({mode})")
        print(f"  one at a time (baseline)   {percentiles(sequential)}")
        print(
            f"  {args.users} users at once        {percentiles(latencies)}   errors {errors}"
            f"   ratio p50 {statistics.median(latencies) / statistics.median(sequential):.1f}x"
        )
    finally:
        app.terminate()
        app.wait(timeout=30)


if __name__ == "__main__":
    main()
