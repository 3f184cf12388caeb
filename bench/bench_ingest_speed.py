"""Ingest speed, today's code beside this checkout's, in one run, alternating.

Each corpus is ingested with the defaults by `paperlens ingest` in a fresh
library, once per code tree, alternating (old, new, old, new, ... with
--rounds), each run a child process with its own PYTHONPATH. The table gives
wall time, passages/s, CPU seconds of the child (user + sys; less sensitive
to other jobs on a shared machine than wall time) and the load average
before and after each run: read the ratios between rows of one run.

    .venv/bin/python -m bench.bench_ingest_speed --old /work/main \\
        [--corpus dair pdfs seeds] [--rounds 1] [--keep /tmp/libs] [--torch-too]

Corpora: the DAIR.AI README (`--no-pdfs`), the 9 real PDFs, the seeds (`--no-pdfs`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.checkouts import cli_command

ROOT = Path(__file__).resolve().parents[1]
# ../shared next to a checkout (one more level up from a worktree in wt/).
REAL = next((p / "shared/corpus" for p in ROOT.parents if (p / "shared/corpus").is_dir()), None)
CORPORA = {
    "dair": (["real/dair_ml_papers_of_the_week.md"], ["--no-pdfs"]),
    "pdfs": (["real/pdfs"], []),
    "seeds": (["seeds"], ["--no-pdfs"]),
}


def run_ingest(code: Path, corpus: Path, name: str, home: Path, extra: dict[str, str]) -> dict:
    """One `paperlens ingest` of `name` with the code in `code`, in library `home`."""
    paths, flags = CORPORA[name]
    env = {**os.environ, "PYTHONPATH": str(code), "PAPERLENS_HOME": str(home), **extra}
    command = [*cli_command(code), "ingest", *flags,
               *(str(corpus / p) for p in paths)]  # fmt: skip
    load_before = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=code, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"ingest failed with {code}:\n{done.stderr[-2000:]}")
    stats = subprocess.run(
        [*cli_command(code), "stats", "--json"],
        env=env, cwd=code, capture_output=True, text=True, check=True,
    )  # fmt: skip
    passages = json.loads(stats.stdout)["passages"]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "wall": wall,
        "passages": passages,
        "rate": passages / wall,
        "cpu": cpu,
        "load": (load_before, os.getloadavg()[0]),
        "notes": [line for line in done.stderr.splitlines() if line.startswith("paperlens:")],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="today's code (a checkout)")
    parser.add_argument("--new", type=Path, default=ROOT, help="the code to compare")
    parser.add_argument("--corpus", nargs="+", default=["dair", "pdfs"], choices=CORPORA)
    parser.add_argument("--shared", type=Path, default=REAL, help="the shared corpus folder")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="keep the libraries under this folder")
    parser.add_argument(
        "--torch-too",
        action="store_true",
        help="also run the new code on PyTorch (a new install, before the ONNX export)",
    )
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="ingest-speed-"))
    print(f"cpu cores: {len(os.sched_getaffinity(0))}; libraries in {root}", flush=True)
    print("| corpus | code | passages | wall s | passages/s | CPU s | CPU s/passage | load |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |", flush=True)
    rates: dict[tuple[str, str], list[float]] = {}
    for name in args.corpus:
        for n in range(args.rounds):
            runs = [("old", args.old, {}), ("new", args.new, {})]
            if args.torch_too:
                runs.append(("new-torch", args.new, {"PAPERLENS_MODEL_RUNTIME": "torch"}))
            for label, code, extra in runs:
                home = root / f"{name}-{label}-{n}"
                shutil.rmtree(home, ignore_errors=True)
                r = run_ingest(code, args.shared, name, home, extra)
                rates.setdefault((name, label), []).append(r["rate"])
                print(
                    f"| {name} | {label} | {r['passages']} | {r['wall']:.1f} | {r['rate']:.2f} | "
                    f"{r['cpu']:.1f} | {r['cpu'] / r['passages']:.3f} | "
                    f"{r['load'][0]:.2f} -> {r['load'][1]:.2f} |",
                    flush=True,
                )
                for note in r["notes"]:
                    print(f"  {note}", flush=True)
                if not args.keep:
                    shutil.rmtree(home, ignore_errors=True)
    for name in args.corpus:
        old = sum(rates[(name, "old")]) / args.rounds
        for label in ("new", "new-torch"):
            if (name, label) in rates:
                new = sum(rates[(name, label)]) / args.rounds
                print(f"{name}: {label} / old passages/s = {new / old:.2f}x")


if __name__ == "__main__":
    main()
