"""Time and peak memory per hostile PDF: read in the bounded child (what ingest does
now) next to the old in-process read (the baseline), each in a fresh process.

    python -m bench.bench_hostile            # every case, both ways
    python -m bench.bench_hostile --bounded  # only the bounded read

Two peaks: the measuring process's (getrusage; the whole read for the
in-process baseline) and the reader child's (its VmHWM, which it reports;
"killed" when the address-space cap stopped it). Two ordinary PDFs come
first as the baseline: a generated one-page paper and, when the shared
corpus is there, "Attention Is All You Need" (15 pages). The in-process baseline runs under a
4 GB address-space cap and a 300 s limit so a bomb cannot take the machine down.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BASELINE_CAP = 4 * 1024**3


def measure(case: str, mode: str) -> dict:
    from paperlens.ingest.config import Settings
    from paperlens.ingest.errors import IngestError
    from paperlens.ingest.pdf import extract_pdf
    from paperlens.ingest.pdfbox import extract_pdf_bounded

    data = cases()[case]
    settings = Settings()
    stats: dict = {}
    start = time.monotonic()
    try:
        if mode == "bounded":
            pdf = extract_pdf_bounded(
                data,
                max_pages=settings.max_pdf_pages,
                name=case,
                memory_mb=settings.pdf_memory_mb,
                timeout=settings.pdf_timeout,
                stats=stats,
            )
        else:
            resource.setrlimit(resource.RLIMIT_AS, (BASELINE_CAP, BASELINE_CAP))
            pdf = extract_pdf(data, max_pages=300, name=case)
        outcome = f"read: {len(pdf.pages)} page(s)"
    except IngestError as exc:
        outcome = f"error: {exc}"
    except MemoryError:
        outcome = "crash: MemoryError"
    seconds = time.monotonic() - start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "case": case,
        "mode": mode,
        "bytes": len(data),
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(own, 1),
        "reader_peak_mb": round(stats["peak_rss_mb"], 1) if "peak_rss_mb" in stats else None,
        "outcome": outcome[:140],
    }


def cases() -> dict[str, bytes]:
    from tests.fixtures.hostile_inputs import hostile_pdfs
    from tests.fixtures.pdfs import paper_pdf

    ordinary = {"paper": paper_pdf()}
    real = Path("/work/shared/corpus/real/pdfs/1706.03762.pdf")
    if real.exists():
        ordinary["attention"] = real.read_bytes()
    return {**ordinary, **hostile_pdfs()}


def run_one(case: str, mode: str) -> dict:
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "bench.bench_hostile", "--one", case, "--mode", mode],
            cwd=ROOT,  # -m finds this repository's packages from its root
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        return {"case": case, "mode": mode, "outcome": "killed after 300 s"}
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"case": case, "mode": mode, "outcome": f"crashed ({proc.returncode}): {last}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one")
    parser.add_argument("--mode", default="bounded")
    parser.add_argument("--bounded", action="store_true", help="skip the in-process baseline")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.mode)))
        return
    modes = ["bounded"] if args.bounded else ["bounded", "in-process"]
    heads = ("case", "mode", "size", "seconds", "own peak", "reader")
    print("{:<13} {:<10} {:>9} {:>8} {:>9} {:>9}  outcome".format(*heads))
    for case in cases():
        for mode in modes:
            row = run_one(case, mode)
            size = f"{row.get('bytes', 0) / 1024:.0f} kB"
            secs = row.get("seconds", "-")
            rss = f"{row['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in row else "-"
            reader = "-"
            if mode == "bounded":
                peak = row.get("reader_peak_mb")
                reader = f"{peak:.0f} MB" if peak is not None else "killed"
            print(
                f"{case:<13} {mode:<10} {size:>9} {secs:>8} {rss:>9} {reader:>9}  {row['outcome']}"
            )


if __name__ == "__main__":
    main()
