"""Read a PDF in a child process with a memory cap and a time limit.

A PDF is a program for a parser written in C++: a few hundred kilobytes of
compressed stream can decompress to gigabytes (a "bomb" took 3.9 GB to
ingest), an object graph can be cyclic or nested deep enough to exhaust the
stack, and a crash there would take the app down with it. So pdfium runs in
a fresh interpreter (`python -m paperlens.ingest.pdfbox`, not a fork of the threaded
app) that caps its own address space (RLIMIT_AS) before reading anything,
and the parent waits at most `timeout` seconds. The result comes back as
JSON, not pickle: the child has parsed hostile bytes and is not trusted to
hand the parent code. Any failure is one IngestError; the parent and the
library are untouched. Starting the interpreter costs about half a second
per PDF (bench/bench_hostile.py).
"""

from __future__ import annotations

import json
import os
import resource
import struct
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import paperlens
from paperlens.ingest.errors import IngestError

# The folder that holds the `paperlens` package (a checkout or site-packages).
PACKAGE_ROOT = Path(paperlens.__file__).resolve().parents[1]


def extract_pdf_bounded(
    data: bytes | Path,
    *,
    max_pages: int,
    name: str,
    memory_mb: int,
    timeout: float,
    stats: dict | None = None,
):
    """`ingest.pdf.extract_pdf` in a child process: at most `memory_mb` of address
    space and `timeout` seconds; a PdfText, or a one-line IngestError.

    `stats`, when given, receives the child's peak resident memory (`peak_rss_mb`)."""
    from paperlens.ingest.pdf import PdfText

    raw = data.read_bytes() if isinstance(data, Path) else data
    header = json.dumps({"max_pages": max_pages, "name": name, "memory_mb": memory_mb})
    message = struct.pack(">I", len(header)) + header.encode() + raw
    # The child imports this very copy of paperlens, whatever the caller's directory.
    path = [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "paperlens.ingest.pdfbox"],
            input=message,
            capture_output=True,
            timeout=timeout,
            env=env,
            cwd=PACKAGE_ROOT,
        )
    except subprocess.TimeoutExpired:  # run() has killed the child
        raise IngestError(
            f"{name}: reading took longer than {timeout:g} s; skipped "
            "(a PDF built to exhaust the parser?)"
        ) from None
    try:
        reply = json.loads(done.stdout)
    except ValueError:  # no reply: killed for memory (abort in the allocator) or a crash
        raise IngestError(
            f"{name}: could not be read within {memory_mb} MB of memory; skipped "
            "(a decompression bomb or a broken PDF?)"
        ) from None
    if stats is not None:
        stats["peak_rss_mb"] = reply.get("peak_kb", 0) / 1024
    if reply.get("status") == "ok":
        return PdfText(**reply["pdf"])
    raise IngestError(str(reply.get("error") or f"{name}: not a readable PDF"))


def _child() -> None:
    """The worker: header and bytes on stdin, one JSON reply on stdout."""
    stdin = sys.stdin.buffer
    (size,) = struct.unpack(">I", stdin.read(4))
    header = json.loads(stdin.read(size))
    raw = stdin.read()
    limit = header["memory_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core dump of a crash
    name = header["name"]
    from paperlens.ingest.pdf import extract_pdf

    try:
        pdf = extract_pdf(raw, max_pages=header["max_pages"], name=name)
        reply = {"status": "ok", "pdf": asdict(pdf)}
    except IngestError as exc:
        reply = {"status": "error", "error": str(exc)}
    except MemoryError:
        reply = {
            "status": "error",
            "error": f"{name}: could not be read within {header['memory_mb']} MB of memory; "
            "skipped (a decompression bomb?)",
        }
    except RecursionError:
        reply = {"status": "error", "error": f"{name}: nested too deeply to read; skipped"}
    except Exception as exc:  # hostile input reaching a parser path we did not foresee
        reply = {
            "status": "error",
            "error": f"{name}: not a readable PDF ({type(exc).__name__}); skipped",
        }
    reply["peak_kb"] = _peak_rss_kb()
    sys.stdout.write(json.dumps(reply, ensure_ascii=True, default=str))


def _peak_rss_kb() -> int:
    """This process's peak resident set (VmHWM), in kB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    _child()
