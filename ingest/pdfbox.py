"""Read a PDF in a child process with a memory cap and a time limit.

A PDF is a program for a parser written in C++: a few hundred kilobytes of
compressed stream can decompress to gigabytes (a "bomb" took 3.9 GB to
ingest), an object graph can be cyclic or nested deep enough to exhaust the
stack, and a crash there would take the app down with it. So pdfium runs in
a child (forked from a small, clean server process, not from the threaded
app) under RLIMIT_AS, and the parent waits at most `timeout` seconds. Any of
these ends as one IngestError; the parent and the library are untouched.
"""

from __future__ import annotations

import multiprocessing
import resource
import threading
from pathlib import Path

from ingest.errors import IngestError

_context = None
_context_lock = threading.Lock()


def _forkserver():
    """The forkserver context, its server preloading the PDF reader (started once)."""
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["ingest.pdf"])
            _context = context
        return _context


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
    raw = data.read_bytes() if isinstance(data, Path) else data
    context = _forkserver()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child,
        args=(sender, raw, max_pages, name, memory_mb * 1024 * 1024),
        daemon=True,
    )
    child.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise IngestError(
                f"{name}: reading took longer than {timeout:g} s; skipped "
                "(a PDF built to exhaust the parser?)"
            )
        try:
            status, value, peak_kb = receiver.recv()
            if stats is not None:
                stats["peak_rss_mb"] = peak_kb / 1024
        except EOFError:  # the child died: out of memory (abort) or a crash
            child.join(5)
            raise IngestError(
                f"{name}: could not be read within {memory_mb} MB of memory; skipped "
                "(a decompression bomb or a broken PDF?)"
            ) from None
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receiver.close()
    if status == "ok":
        return value
    raise IngestError(value)


def _child(sender, raw: bytes, max_pages: int, name: str, memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core dump of a crash
    from ingest.pdf import extract_pdf

    try:
        result = ("ok", extract_pdf(raw, max_pages=max_pages, name=name))
    except IngestError as exc:
        result = ("error", str(exc))
    except MemoryError:
        result = (
            "error",
            f"{name}: could not be read within {memory_bytes >> 20} MB of memory; skipped "
            "(a decompression bomb?)",
        )
    except RecursionError:
        result = ("error", f"{name}: nested too deeply to read; skipped")
    except Exception as exc:  # hostile input reaching a parser path we did not foresee
        result = ("error", f"{name}: not a readable PDF ({type(exc).__name__}); skipped")
    sender.send((*result, _peak_rss_kb()))
    sender.close()


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
