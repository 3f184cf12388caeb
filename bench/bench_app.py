"""App benchmark on loopback: start-up on a fresh data dir, then 20 concurrent users.

    .venv/bin/python -m bench.bench_app [--users 20] [--questions 3] [--llm]

1. `python app.py` on an empty PAPERLENS_HOME: seconds to the first page
   served, to "ready" (bundled samples indexed), and to the first answer.
2. N simulated users (gradio_client, one client each) asking questions at
   once through the Ask endpoint: p50/p95 latency and errors. Retrieval-only
   answers by default (the app's own cost); `--llm` uses the local generator,
   (llama.cpp's server in a child process of the app), which answers one question
   at a time on 2 cores. Baseline in the same run: the same questions asked one at
   a time. Reported: how many users were shown a queue position while they waited,
   and the peak memory (RSS) of the app process and of the generator process apart.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from gradio_client import Client

from tests.fixtures.live_app import start_app, stop

QUESTIONS = [
    "LoRA는 어떻게 학습 파라미터 수를 줄이나요?",
    "アテンションシンクとは何ですか？",
    "Comment le Transformer remplace-t-il la récurrence ?",
    "DPR और BM25 में क्या अंतर है?",
    "What does Mamba change compared to attention?",
    "ColBERT 和 DPR 有什么区别？",
]


def wait_until(check, seconds: float) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        if check():
            return time.perf_counter() - start
        time.sleep(0.1)
    raise TimeoutError("gave up waiting")


def status_line(client: Client) -> str:
    """The page's status line, from the timer's endpoint (filter text, language in)."""
    return client.predict("", "all", api_name="/on_tick")[0]


def page_served(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


# What the Ask tab streams while a question waits for the local generator.
WAITING = re.compile(r"waiting for the generator: (\d+) request")


@dataclass
class Seen:
    """What one user's client was shown while waiting: Gradio's own queue rank
    (before the app runs the question) and the app's line in the answer box
    (while the question waits its turn at the generator), with when each came."""

    gradio: list[int] = field(default_factory=list)
    generator: list[int] = field(default_factory=list)
    first_at: float | None = None

    def note(self, kind: list[int], ahead: int, elapsed: float) -> None:
        kind.append(ahead)
        if self.first_at is None:
            self.first_at = elapsed


def ask(url: str, question: str, seen: Seen | None = None) -> float:
    """One user's question; records in `seen` the queue positions it was shown."""
    client = Client(url, verbose=False)
    start = time.perf_counter()
    job = client.submit(question, [], "auto", api_name="/on_ask")
    read = 0
    while not job.done():
        if seen is not None:
            elapsed = time.perf_counter() - start
            status = job.status()
            if status.rank is not None and status.rank > 0:
                seen.note(seen.gradio, status.rank, elapsed)
            outputs = job.outputs()
            for output in outputs[read:]:
                if match := WAITING.search(str(output)):
                    seen.note(seen.generator, int(match.group(1)), elapsed)
            read = len(outputs)
        time.sleep(0.2)
    job.result()
    return time.perf_counter() - start


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(c) for c in task.read_text().split()]
    return found


class MemoryWatch:
    """Peak RSS of the app process and of its child processes (the generator), sampled."""

    def __init__(self, pid: int) -> None:
        self.pid, self.app, self.generator = pid, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.app = max(self.app, rss_mb(self.pid))
            self.generator = max(self.generator, sum(rss_mb(c) for c in children(self.pid)))

    def stop(self) -> str:
        self._stop.set()
        self._thread.join()
        return f"peak RSS: app {self.app:.0f} MB, generator process {self.generator:.0f} MB"


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
    start = time.perf_counter()
    app, url = start_app(home, {"PAPERLENS_LOCAL_LLM": "auto" if args.llm else "off"})
    memory = MemoryWatch(app.pid)
    try:
        wait_until(lambda: page_served(url), 120)
        served = time.perf_counter() - start
        status = Client(url, verbose=False)
        wait_until(lambda: status_line(status).startswith("ready"), 900)
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
        positions = [Seen() for _ in jobs]
        with ThreadPoolExecutor(max_workers=args.users) as pool:
            futures = [pool.submit(ask, url, q, positions[i]) for i, q in enumerate(jobs)]
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
        shown = [p for p in positions if p.gradio or p.generator]
        print(
            f"  questions shown a queue position while waiting: {len(shown)} of {len(jobs)} "
            f"(Gradio's queue rank: {sum(1 for p in positions if p.gradio)}, the app's "
            f"'waiting for the generator' line: {sum(1 for p in positions if p.generator)})"
        )
        if shown:
            firsts = [p.first_at for p in shown if p.first_at is not None]
            print(f"  first position shown after {percentiles(firsts)}")
        print(f"  {memory.stop()}")
    finally:
        stop(app)


if __name__ == "__main__":
    main()
