"""A new user's first run: from `make run` in a fresh clone to the first answer.

    python3 bench/first_run.py [--repo .] [--port 7874] [--keep]

Clones the repository (its committed HEAD) into a temporary folder and runs
`make run` there with an empty pip cache, so everything is downloaded and
llama-cpp-python is compiled as on a new machine. It prints, in seconds since
`make run`: the app's page served, the sample library indexed, the first
answer (`paperlens ask` in the clone, as a user would in a second terminal),
the generator's build done, and the first generated answer. The build's own
duration is read from its log's timestamps, which gives the previous design's
figure from the same run: before, `make run` compiled first and started the
app after, so its first answer came that much later.
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
    parser.add_argument("--keep", action="store_true", help="keep the clone for inspection")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="paperlens-first-run-"))
    clone = root / "paperlens"
    subprocess.run(["git", "clone", "-q", str(args.repo), str(clone)], check=True)
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
        watch(clone, env, args.port, start, marks, app)
    finally:
        os.killpg(app.pid, signal.SIGTERM)
        log.close()
    report(marks, clone)
    if not args.keep:
        wait_for_build(clone)
        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"clone kept in {root}")


def watch(clone: Path, env: dict, port: int, start: float, marks: dict, app) -> None:
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
        if "samples indexed" in marks:
            built = (clone / ".venv/.generator-installed").exists()
            if built and "generator built" not in marks:
                marks["generator built"] = time.monotonic() - start
            key = "generated answer" if built else "first answer"
            if key not in marks or key == "generated answer":
                mode = ask(cli, env)
                if mode == "llm" or (key == "first answer" and mode):
                    marks[key] = time.monotonic() - start
                    print(f"{key}: mode {mode}", flush=True)
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


def ask(cli: Path, env: dict) -> str | None:
    done = subprocess.run(
        [cli, "ask", QUESTION, "--json"], env=env, capture_output=True, text=True, timeout=600
    )
    try:
        return json.loads(done.stdout)["mode"] if done.returncode == 0 else None
    except (ValueError, KeyError):
        return None


def build_seconds(clone: Path) -> float | None:
    """How long the background build took: its log file's creation to its last write."""
    log = clone / ".venv/generator-install.log"
    stamp = clone / ".venv/.generator-installed"
    if not (log.exists() and stamp.exists()):
        return None
    return stamp.stat().st_mtime - log.stat().st_ctime


def wait_for_build(clone: Path) -> None:
    for _ in range(600):
        if (clone / ".venv/.generator-installed").exists():
            return
        time.sleep(1)


def report(marks: dict[str, float], clone: Path) -> None:
    print("\nfirst run (seconds since `make run`, fresh clone, empty pip cache):")
    for name, seconds in marks.items():
        print(f"  {name:<18} {seconds:7.0f} s")
    build = build_seconds(clone)
    if build is not None and "first answer" in marks:
        print(f"  generator build    {build:7.0f} s (in the background)")
        print(
            f"  previous design, first answer ~ {marks['first answer'] + build:.0f} s "
            "(the build ran before the app started)"
        )


if __name__ == "__main__":
    main()
