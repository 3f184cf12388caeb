"""What every session of the app shares: the library, access rules, the generator
and its queue, the start-up status line, and the PDFs the app may serve."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import gradio as gr

from paperlens.assistant.access import LIBRARIAN, AccessPolicy
from paperlens.assistant.evidence import Evidence
from paperlens.assistant.fairuse import GeneratorGate, Ticket
from paperlens.assistant.llm import discover_generators, generator_health, get_llm
from paperlens.assistant.ui.render import safe_url
from paperlens.index.library import Library
from paperlens.ingest.config import Settings
from paperlens.ingest.errors import PaperlensError
from paperlens.ingest.sources import SUPPORTED

log = logging.getLogger("paperlens.app")
SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def sample_digests() -> list[str]:
    """The bundled sample digests (not their README, which describes them)."""
    return [
        str(p) for p in sorted(SAMPLES.glob("*")) if p.suffix in SUPPORTED and p.stem != "README"
    ]


class App:
    """Holds the library and the start-up state shared by every session."""

    def __init__(self, settings: Settings, host: str | None = None) -> None:
        self.settings = settings
        self.access = AccessPolicy.from_settings(settings, host=host)
        self.gate = GeneratorGate(
            slots=settings.generator_slots,
            per_user=settings.requests_per_user,
            run_timeout=settings.generation_timeout,
            queue_timeout=settings.queue_timeout,
        )
        self.library = Library(settings, show_progress=False)
        self.llm = get_llm(settings)
        self.generators = discover_generators(settings)
        self.generator_key = self._key_of(self.llm)
        self._status = "starting: loading the embedding model…"
        self.ready = threading.Event()
        self.served_pdfs: set[Path] = set()  # local PDFs the app may serve (see launch)

    def require_librarian(self, request: gr.Request | None) -> str:
        """The caller's name if they may change the library or its settings, else
        AccessDenied (a PaperlensError). Call it first in every handler that changes
        state: Gradio's HTTP API reaches handlers whatever the page shows."""
        return self.access.require(request, LIBRARIAN)

    def user_key(self, request: gr.Request | None) -> str:
        """Whose request this is, for fair use: the signed-in name; with no sign-in, the
        browser tab on loopback (one person, several tabs), else the client address
        (tabs cost nothing to open)."""
        name = getattr(request, "username", None)
        if name:
            return f"user:{name}"
        if self.access.mode == "none" and self.access.anonymous_role == LIBRARIAN:
            return f"tab:{getattr(request, 'session_hash', None)}"
        client = getattr(request, "client", None)
        return f"addr:{getattr(client, 'host', None) or 'unknown'}"

    def _key_of(self, llm) -> str:
        """Which discovered option is in use: get_llm picks the first one found."""
        return self.generators[0].key if llm is not None and self.generators else "none"

    def use_generator(self, key: str) -> str:
        """Switch the generator for every new question (running answers keep theirs)."""
        option = next((o for o in self.generators if o.key == key), None)
        if option is None:
            raise PaperlensError(f"no generator {key!r}")
        self.llm = option.make()
        self.generator_key = key
        self.show_ready()
        return option.label

    @property
    def status(self) -> str:
        """The status line, with the local generator's health when it is not serving
        (starting, or stopped after a crash: it restarts with the next question)."""
        health = generator_health(self.llm)
        return f"{self._status} ({health})" if health and self.ready.is_set() else self._status

    @status.setter
    def status(self, line: str) -> None:
        self._status = line

    def ready_line(self) -> str:
        """What the library holds and which generator answers, for the status line."""
        stats = self.library.store.stats()
        generator = self.llm.name if self.llm else "none (answers quote passages)"
        return (
            f"ready: {stats['papers']} papers, {stats['passages']} passages, "
            f"languages {', '.join(sorted(stats['languages']))}; generator: {generator}"
        )

    def show_ready(self) -> None:
        """Set the status line to the ready line (after the library or generator changed)."""
        self.status = self.ready_line()

    def warm_generator(self) -> None:
        """Start the local generator's server in the background, so the first question
        does not wait for the model to load; a failure shows in the status line."""
        warm = getattr(self.llm, "warm", None)
        if warm is None:
            return

        def run() -> None:
            try:
                warm()
            except PaperlensError as exc:
                self.status = f"{self.ready_line()}; generator failed to start: {exc}"

        threading.Thread(target=run, daemon=True, name="generator-warm-up").start()

    def pdf_link(self, evidence: Evidence) -> str | None:
        """A link that opens the passage's PDF at its page, served only if it is ours."""
        if evidence.url and safe_url(evidence.url):
            return evidence.url
        if evidence.url and evidence.url.startswith("file://"):
            path = Path(evidence.source).resolve()
            if self._may_serve(path):
                return f"gradio_api/file={quote(str(path))}#page={evidence.page or 1}"
        return None

    def _may_serve(self, path: Path) -> bool:
        arxiv_cache = (self.settings.cache_dir / "pdf").resolve()
        return path.is_relative_to(arxiv_cache) or path in self.served_pdfs

    def allowed_paths(self) -> list[str]:
        """What Gradio may serve: arXiv's PDF cache and the PDFs the operator ingested
        from the server's disk (`paperlens ingest FILE`). Never uploads: those are
        shown only as rendered page images, never handed back as files."""
        uploads = (self.settings.home / "uploads").resolve()
        for source in self.library.store.sources():
            path = Path(source.uri)
            if path.suffix.lower() == ".pdf" and path.is_file():
                resolved = path.resolve()
                if not resolved.is_relative_to(uploads):
                    self.served_pdfs.add(resolved)
        root = self.settings.cache_dir / "pdf"
        root.mkdir(parents=True, exist_ok=True)
        return [str(root.resolve())] + [str(p) for p in self.served_pdfs]

    def warm_up(self) -> None:
        """Load the model and index the bundled samples on first run (background)."""
        try:
            store = self.library.store
            if store.stats()["papers"] == 0 and SAMPLES.is_dir():
                self.status = "indexing the sample library (first run)…"
                self.library.ingest(sample_digests(), pdfs=False)
            self.library.searcher.lexical()
            self.show_ready()
            self.warm_generator()
        except PaperlensError as exc:
            self.status = f"error: {exc}"
        except Exception:  # a bug, not a user mistake: log it, show one line
            log.exception("start-up failed")
            self.status = "error: start-up failed (see the server log)"
        finally:
            self.ready.set()

    def wait(self) -> None:
        if not self.ready.wait(timeout=600):
            raise PaperlensError("still starting up, try again in a moment")


# Gradio threads that may run Ask/Summarize handlers at once: most of them only
# wait inside app.gate for the generator (and tell their user their place).
LLM_WORKERS = 16
LLM_EVENTS = {"concurrency_limit": LLM_WORKERS, "concurrency_id": "llm"}


@contextlib.contextmanager
def generator_turn(app: App, request: gr.Request | None) -> Iterator[Ticket]:
    """A place in line for the generator, given back however the handler ends
    (finished, error, Stop, or Gradio closing the generator of a page that left)."""
    ticket = app.gate.admit(app.user_key(request))
    try:
        yield ticket
    finally:
        ticket.release()


def waiting_line(ahead: int) -> str:
    return f"waiting for the generator: {ahead} request(s) ahead of yours…"
