"""Time and peak memory per hostile PDF: read in the bounded child (what ingest does
now) next to the old in-process read (the baseline), each in a fresh process.

    python bench/bench_hostile.py            # every case, both ways
    python bench/bench_hostile.py --bounded  # only the bounded read

Peak RSS is the larger of the measuring process's (getrusage) and the PDF
reader child's (its VmHWM, which it reports). The in-process baseline runs under a
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
sys.path.insert(0, str(ROOT))

BASELINE_CAP = 4 * 1024**3


def measure(case: str, mode: str) -> dict:
    from ingest.config import Settings
    from ingest.errors import IngestError
    from ingest.pdf import extract_pdf
    from ingest.pdfbox import extract_pdf_bounded
    from tests.hostile_inputs import hostile_pdfs

    data = hostile_pdfs()[case]
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
    # The reader is a grandchild (forked by the forkserver): it reports its own peak.
    children = stats.get("peak_rss_mb", 0.0)
    return {
        "case": case,
        "mode": mode,
        "bytes": len(data),
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(max(own, children), 1),
        "outcome": outcome[:140],
    }


def run_one(case: str, mode: str) -> dict:
    try:
        proc = subprocess.run(
            [sys.executable, __file__, "--one", case, "--mode", mode],
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
    from tests.hostile_inputs import hostile_pdfs

    modes = ["bounded"] if args.bounded else ["bounded", "in-process"]
    print(f"{'case':<13} {'mode':<10} {'size':>9} {'seconds':>8} {'peak RSS':>9}  outcome")
    for case in hostile_pdfs():
        for mode in modes:
            row = run_one(case, mode)
            size = f"{row.get('bytes', 0) / 1024:.0f} kB"
            secs = row.get("seconds", "-")
            rss = f"{row['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in row else "-"
            print(f"{case:<13} {mode:<10} {size:>9} {secs:>8} {rss:>9}  {row['outcome']}")


if __name__ == "__main__":
    main()
