"""A new user's first run: from `make run` in a fresh clone to the first answer.

    python3 -m bench.first_run [--repo .] [--port 7874] [--keep]

Clones the repository (its committed HEAD, or --rev) into a temporary folder and
runs `make run` there with an empty pip cache, so everything is downloaded as on a
new machine (nothing is compiled: the generator runtime is a prebuilt wheel). It
prints, in seconds since `make run`: the app's page served, the sample library
indexed, and the first generated answer: with `--via cli` (default) `paperlens ask`
in the clone, as a user would in a second terminal (a new process, which starts its
own generator), until its answer's mode is "llm"; with `--via app` the same question
through the page's Ask tab (gradio_client), whose generator the app warms at
start-up, until the answer's sources are not marked "retrieval only". Target: <= 180 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

QUESTION = (
    "StreamingLLM은 KV 캐시에 처음 토큰 몇 개를 남겨 두나요?"  # samples/eval_questions.jsonl sq01
)
LIMIT_S = 3600


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--port", type=int, default=7874)
    parser.add_argument("--rev", help="a commit to measure instead of HEAD")
    parser.add_argument("--keep", action="store_true", help="keep the clone for inspection")
    parser.add_argument("--via", choices=["cli", "app"], default="cli", help="who asks")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="paperlens-first-run-"))
    clone = root / "paperlens"
    subprocess.run(["git", "clone", "-q", str(args.repo), str(clone)], check=True)
    if args.rev:
        subprocess.run(["git", "-C", str(clone), "checkout", "-q", args.rev], check=True)
    env = os.environ | {
        "PIP_CACHE_DIR": str(root / "pip-cache"),  # empty: download and compile everything
        "GRADIO_SERVER_PORT": str(args.port),
        "PAPERLENS_HOME": str(root / "data"),
        "HF_HUB_OFFLINE": "1",
    }
    log = open(root / "make-run.log", "w")  # noqa: SIM115 (lives as long as the app)
    start = time.monotonic()
    app = subprocess.Popen(
        ["make", "run"],
        cwd=clone,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    marks: dict[str, float] = {}
    try:
        asker = (lambda: ask_app(args.port)) if args.via == "app" else (lambda: ask(clone, env))
        watch(clone, env, args.port, start, marks, app, asker)
    finally:
        os.killpg(app.pid, signal.SIGTERM)
        log.close()
    report(marks, args.via)
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"clone kept in {root}")


def watch(clone: Path, env: dict, port: int, start: float, marks: dict, app, asker) -> None:
    """Poll every few seconds until a generated answer came back (or the limit)."""
    cli = clone / ".venv/bin/paperlens"
    while time.monotonic() - start < LIMIT_S and "generated answer" not in marks:
        if app.poll() is not None:
            sys.exit(f"make run exited with {app.returncode}; see {clone.parent}/make-run.log")
        now = time.monotonic() - start
        if "page served" not in marks and served(port):
            marks["page served"] = now
        if "page served" in marks and "samples indexed" not in marks and papers(cli, env) >= 18:
            marks["samples indexed"] = time.monotonic() - start
        if "samples indexed" in marks and asker() == "llm":
            marks["generated answer"] = time.monotonic() - start
        time.sleep(3)


def served(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def papers(cli: Path, env: dict) -> int:
    done = subprocess.run([cli, "stats", "--json"], env=env, capture_output=True, text=True)
    try:
        return int(json.loads(done.stdout)["papers"]) if done.returncode == 0 else 0
    except (ValueError, KeyError):
        return 0


def ask(clone: Path, env: dict) -> str | None:
    cli = clone / ".venv/bin/paperlens"
    done = subprocess.run(
        [cli, "ask", QUESTION, "--json"], env=env, capture_output=True, text=True, timeout=600
    )
    try:
        return json.loads(done.stdout)["mode"] if done.returncode == 0 else None
    except (ValueError, KeyError):
        return None


def ask_app(port: int) -> str | None:
    """The question through the Ask tab; "llm" when the answer was generated (the
    sources panel says "retrieval only" when the passages were quoted instead)."""
    from gradio_client import Client

    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        _chat, _box, sources = client.predict(QUESTION, [], "auto", api_name="/on_ask")
    except Exception:  # the app still starting: ask again on the next poll
        return None
    if "<h4>Sources" not in sources:
        return None
    return "extractive" if "retrieval only" in sources else "llm"


def report(marks: dict[str, float], via: str) -> None:
    print(f"\nfirst run (seconds since `make run`, fresh clone, empty pip cache; asked via {via}):")
    for name, seconds in marks.items():
        print(f"  {name:<18} {seconds:7.0f} s")
    if "generated answer" not in marks:
        print(f"  no generated answer within {LIMIT_S} s")


if __name__ == "__main__":
    main()
