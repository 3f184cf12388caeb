"""`paperlens refresh` next to re-ingesting the URL, on a real digest, same run.

    .venv/bin/python -m bench.bench_refresh [--digest PATH] [--weeks 8]
                                            [--repo .] [--ingest-repo ../main]

The digest's newest week is held back: version 1 is the next `--weeks` weeks,
version 2 adds the held-back week on top (what DAIR.AI publishes each week).
Both are served from a loopback HTTP server that honours If-None-Match. After
ingesting version 1 the data directory is copied, so each way of keeping
current starts from the same state:

- unchanged digest: `paperlens ingest URL` again (the way before refresh)
  vs `paperlens refresh`;
- a new week: `paperlens ingest URL` vs `paperlens refresh`.

Each step is a CLI run (wall time includes starting Python and loading the
embedding model). Reported per step: wall time, HTTP requests and bytes
served, passages embedded (new embedding-cache rows), passage rows inserted
or deleted (the change log the vector index follows), and passage ids that
now name another passage or none (citations held by a client break).
`--ingest-repo` runs another checkout's CLI for the cold ingest and the
re-ingest steps (e.g. ../main, before refresh existed).
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bench.checkouts import cli_command

WEEK = re.compile(r"^## Top ML Papers of the Week", re.M)
INGEST_URL = ("--no-pdfs", "--allow-private")  # the loopback server is a private address


class Digest(http.server.BaseHTTPRequestHandler):
    body = b""
    etag = ""
    log: list[tuple[int, int]] = []  # (status, bytes)

    def do_GET(self) -> None:  # noqa: N802
        cls = type(self)
        if self.headers.get("If-None-Match") == cls.etag:
            self.send_response(304)
            self.send_header("ETag", cls.etag)
            self.end_headers()
            cls.log.append((304, 0))
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/markdown; charset=utf-8")
        self.send_header("ETag", cls.etag)
        self.send_header("Content-Length", str(len(cls.body)))
        self.end_headers()
        self.wfile.write(cls.body)
        cls.log.append((200, len(cls.body)))

    def log_message(self, *args) -> None:
        pass


def versions(text: str, weeks: int) -> tuple[str, str]:
    starts = [m.start() for m in WEEK.finditer(text)]
    head, newest = text[: starts[0]], text[starts[0] : starts[1]]
    rest = text[starts[1] : starts[1 + weeks]]
    return head + rest, head + newest + rest


def counts(home: Path) -> tuple[int, int, dict[int, str]]:
    """Embedding-cache rows, change-log sequence (one per passage row inserted or
    deleted) and every passage id's text."""
    if not (home / "catalog.sqlite").exists():
        return 0, 0, {}
    with sqlite3.connect(home / "catalog.sqlite") as db:
        cached = db.execute("SELECT COUNT(*) FROM embed_cache").fetchone()[0]
        seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()
        texts = dict(db.execute("SELECT id, text FROM passages"))
    return cached, seq[0] if seq else 0, texts


def cli(repo: Path, home: Path, *args: str) -> float:
    env = {
        **os.environ,
        "PYTHONPATH": str(repo),
        "PAPERLENS_HOME": str(home),
        "PAPERLENS_RERANK_MODEL": "off",
        "PAPERLENS_REFRESH_DELAY_SECONDS": "0",
    }
    start = time.perf_counter()
    proc = subprocess.run(
        [*cli_command(repo), *args],
        env=env,
        cwd=repo,  # -m puts the working directory first on sys.path
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return time.perf_counter() - start


def step(name: str, repo: Path, home: Path, *args: str) -> dict:
    log_start = len(Digest.log)
    cached, seq, texts = counts(home)
    seconds = cli(repo, home, *args)
    cached_after, seq_after, texts_after = counts(home)
    served = Digest.log[log_start:]
    row = {
        "step": name,
        "seconds": round(seconds, 2),
        "requests": len(served),
        "statuses": [s for s, _ in served],
        "bytes": sum(b for _, b in served),
        "embedded": cached_after - cached,
        "passage_rows_changed": seq_after - seq,  # inserted + deleted
        # ids a citation may hold that now name another passage, or none
        "ids_moved": sum(texts_after.get(i) != t for i, t in texts.items()),
        "passages": len(texts_after),
    }
    print(json.dumps(row))
    return row


def keep_current(repo: Path, ingest_repo: Path, homes: dict[str, Path], url: str) -> None:
    """The two ways of keeping a library current, each on its own copy of it."""
    step("ingest URL again", ingest_repo, homes["reingest"], "ingest", *INGEST_URL, url)
    step("refresh", repo, homes["refresh"], "refresh", "--allow-private")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--digest",
        type=Path,
        default=Path(__file__).resolve().parents[2]
        / "shared/corpus/real/dair_ml_papers_of_the_week.md",
    )
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--ingest-repo", type=Path, default=None)
    args = parser.parse_args()
    ingest_repo = (args.ingest_repo or args.repo).resolve()
    v1, v2 = versions(args.digest.read_text(encoding="utf-8"), args.weeks)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Digest)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/digest.md"
    work = Path(tempfile.mkdtemp(prefix="bench-refresh-"))
    try:
        Digest.body, Digest.etag = v1.encode(), '"v1"'
        base = work / "v1"
        step("ingest version 1 (cold)", ingest_repo, base, "ingest", *INGEST_URL, url)
        homes = {way: work / way for way in ("reingest", "refresh")}
        for home in homes.values():
            shutil.copytree(base, home)
        weeks = [("unchanged digest", v1, '"v1"'), ("the digest gains a week", v2, '"v2"')]
        for title, version, etag in weeks:
            print(f"# {title}")
            Digest.body, Digest.etag = version.encode(), etag
            keep_current(args.repo, ingest_repo, homes, url)
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
