"""The `paperlens` command line: parse arguments, call the library, render.

Errors a user can cause surface as one line on stderr and exit code 1; the
`--json` outputs are a stable interface documented in docs/json.md.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from paperlens.index.evaluate import evaluate, format_table, load_queries
from paperlens.index.hits import snippet
from paperlens.index.library import Library
from paperlens.index.limits import check_k, check_query
from paperlens.index.ray_cluster import ClusterOptions
from paperlens.index.records import ForgottenSource
from paperlens.index.search import MODES
from paperlens.ingest.config import Settings, describe_invalid
from paperlens.ingest.errors import PaperlensError, user_error


class _Commands(typer.Typer):
    """Typer whose commands say "interrupted" on Ctrl-C: Typer turns KeyboardInterrupt
    into a silent exit 130, which leaves a user staring at a stopped progress bar."""

    def command(self, *args, **kwargs):
        register = super().command(*args, **kwargs)
        return lambda callback: register(_interruptible(callback))


# Commands that store source by source: what finished is kept, and running them again
# goes on from there (cached vectors are not computed twice).
RESUMABLE = {"ingest": "run the same ingest again to go on", "refresh": "refresh again to go on"}


def _interruptible(command):
    hint = RESUMABLE.get(command.__name__)
    message = f"interrupted: sources finished before are kept; {hint}" if hint else "interrupted"

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt:
            typer.echo("\n" + message, err=True)
            raise typer.Exit(130) from None

    return run


app = _Commands(
    help="Multilingual semantic search and cited answers over ML paper digests and PDFs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help is plain text: "[n]" is a citation, not markup
    add_completion=False,
)

users_app = _Commands(help="Who may use the app: users, roles and password hashes.")
app.add_typer(users_app, name="users")

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
GeneratorOption = Annotated[
    str | None,
    typer.Option("--generator", help="Generator key from `paperlens generators` (default: auto)."),
]


class State:
    settings: Settings | None = None


def library(**overrides) -> Library:
    settings = State.settings or Settings()
    if overrides:
        settings = settings.model_copy(update=overrides)
    return Library(settings, show_progress=sys.stderr.isatty())


@app.callback()
def main_options(
    home: Annotated[
        Path | None, typer.Option(help="Data directory (default: $PAPERLENS_HOME or ./data).")
    ] = None,
) -> None:
    settings = Settings()
    if home is not None:
        settings = settings.model_copy(update={"home": home})
    State.settings = settings


@app.command()
def ingest(
    sources: Annotated[list[str], typer.Argument(help="Files, folders, http(s) URLs, arXiv ids.")],
    pdfs: Annotated[
        bool, typer.Option("--pdfs/--no-pdfs", help="Follow arXiv links to metadata and PDFs.")
    ] = True,
    allow_private: Annotated[
        bool, typer.Option(help="Allow URLs on private or loopback addresses.")
    ] = False,
    ray: Annotated[
        bool | None,
        typer.Option(
            "--ray/--no-ray",
            help="Parse and embed on a Ray cluster (a local one unless an address is "
            "given; default: on when PAPERLENS_RAY_ADDRESS is set). docs/cluster.md",
        ),
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(help="The Ray cluster: ray://HOST:10001, HOST:6379, auto, local."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Ray embedding workers (default: one per CPU).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add digests (text, Markdown, HTML) and papers (PDF, arXiv) to the library."""
    overrides = {"allow_private": True} if allow_private else {}
    lib = library(**overrides)
    echo = None if as_json else _echo_event
    cluster = _cluster_options(lib.settings, ray, ray_address, workers)
    report = lib.ingest(sources, pdfs=pdfs, on_event=echo, cluster=cluster)
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        summary = report.to_json()
        typer.echo(
            f"done: {summary['ingested']} ingested, {summary['unchanged']} unchanged, "
            f"{summary['failed']} failed"
        )
    if not report.succeeded:
        raise typer.Exit(1)


def _echo_event(line: str) -> None:
    """An ingest's line: what happened to a source on stdout; errors and paperlens'
    own notes (the model export, a slower runtime) on stderr."""
    typer.echo(line, err=line.startswith(("error", "paperlens:")))


def _cluster_options(
    settings: Settings, ray: bool | None, address: str | None, workers: int | None
) -> ClusterOptions | None:
    """Ray when asked for (--ray, --ray-address, --workers, or the setting), else None."""
    if ray is False:
        return None
    if ray or address or workers or settings.ray_address:
        return ClusterOptions.from_settings(settings, address=address, workers=workers)
    return None


@app.command()
def refresh(
    pdfs: Annotated[
        bool, typer.Option("--pdfs/--no-pdfs", help="Also fetch the new papers' arXiv PDFs.")
    ] = False,
    allow_private: Annotated[
        bool, typer.Option(help="Allow URLs on private or loopback addresses.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Re-fetch every URL source (conditionally), ingest what changed, report new papers.

    Unchanged sources cost one request (a 304) and no parsing; passages of papers
    that did not change keep their ids and vectors.
    """
    overrides = {"allow_private": True} if allow_private else {}
    echo = None if as_json else _echo_event
    report = library(**overrides).refresh(pdfs=pdfs, on_event=echo)
    data = report.to_json()
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    elif not report.outcomes:
        typer.echo("no URL sources to refresh (ingest one with `paperlens ingest URL`)")
    else:
        typer.echo(
            f"done: {data['checked']} sources checked, {data['updated']} updated, "
            f"{data['papers_added']} papers added, {data['failed']} failed"
        )
    if not report.succeeded:
        raise typer.Exit(1)


@app.command()
def search(
    query: Annotated[str | None, typer.Argument(help="Question or keywords, any language.")] = None,
    k: Annotated[int, typer.Option("-k", help="Number of papers.")] = 5,
    batch: Annotated[
        Path | None, typer.Option(help='JSONL file of {"id":..., "query":...} lines.')
    ] = None,
    mode: Annotated[
        str, typer.Option(help="auto | rerank | hybrid | dense | bm25 (auto: rerank if available)")
    ] = "auto",
    as_json: JsonFlag = False,
) -> None:
    """Find papers: one hit per paper, with its best passage."""
    if mode != "auto" and mode not in MODES:
        raise PaperlensError(f"unknown mode {mode!r} (auto | rerank | hybrid | dense | bm25)")
    lib = library()
    check_k(k, "-k")
    searcher = lib.searcher
    mode = None if mode == "auto" else mode
    if batch is not None:
        for item in load_queries(batch):
            hits = searcher.search(check_query(item.query, lib.settings), k=k, mode=mode)
            row = {"id": item.id, "hits": [h.to_json() for h in hits]}
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    if not query or not query.strip():
        raise PaperlensError("give a query, or --batch FILE")
    hits = searcher.search(check_query(query, lib.settings), k=k, mode=mode)
    if as_json:
        typer.echo(json.dumps([h.to_json() for h in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        typer.echo("no results (is the library empty? try `paperlens ingest`)")
    for hit in hits:
        where = f"p.{hit.page}" if hit.page else hit.kind
        typer.echo(f"{hit.rank}. {hit.title}  [{hit.arxiv_id or hit.paper_id}]  {hit.score:.4f}")
        typer.echo(f"   {where}, {hit.lang or '?'}: {snippet(hit.passage, 160)}")
        if hit.url:
            typer.echo(f"   {hit.url}")
    from paperlens.assistant.relevance import names_not_found

    if missing := names_not_found(lib, query, hits):
        typer.echo(f"no result mentions {', '.join(missing)}: the library may not hold it")


@app.command("eval")
def eval_command(
    queries: Annotated[Path, typer.Argument(help="JSONL with query, lang, expect_arxiv/title.")],
    as_json: JsonFlag = False,
) -> None:
    """Recall@1/@5 and MRR per language: hybrid next to BM25-only and dense-only."""
    items = load_queries(queries)
    results = evaluate(library().searcher, items)
    if as_json:
        typer.echo(json.dumps(results, indent=2))
    else:
        typer.echo(f"{len(items)} queries from {queries}")
        typer.echo(format_table(results))


@app.command("eval-answers")
def eval_answers(
    questions: Annotated[Path, typer.Argument(help="JSONL: question, lang, expect_*, must.")],
    generator: GeneratorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Grade `ask` on a question set: right paper cited, language, script, facts,
    supported sentences, abstention, time to first token; overall and per language."""
    from paperlens.assistant.answer_eval import Report, format_report, load_questions, run_question
    from paperlens.assistant.llm import get_llm

    items = load_questions(questions)
    lib = library()
    llm = get_llm(lib.settings, generator)
    report = Report()
    for item in items:
        report.outcomes.append(run_question(lib, item, llm))
        if not as_json:
            done = report.outcomes[-1]
            typer.echo(f"{item.id} {item.lang}: {snippet(done.answer.text, 100)}", err=True)
    if as_json:
        data = {"model": llm.name if llm else None, **report.to_json()}
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    title = f"{len(items)} questions from {questions}; generator: {llm.name if llm else 'none'}"
    typer.echo(format_report(report.to_json()["summary"], title))


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question, in any language.")],
    lang: Annotated[
        str | None, typer.Option(help="Answer language (ISO code, e.g. ko); default: auto.")
    ] = None,
    k: Annotated[int, typer.Option("-k", help="Passages given to the model.")] = 6,
    generator: GeneratorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Answer from your library, in your language, citing passages as [n]."""
    from paperlens.assistant.chat import ask_stream
    from paperlens.assistant.llm import get_llm

    lib = library()
    check_k(k, "-k")
    check_query(question, lib.settings, "question")
    llm = get_llm(lib.settings, generator)
    stream = ask_stream(lib, question, lang=lang, llm=llm, k=k)
    _render_answer(_echo_stream(stream, as_json), as_json)


@app.command()
def summarize(
    paper: Annotated[str, typer.Argument(help="arXiv id, paper id or title.")],
    lang: Annotated[str, typer.Option(help="Summary language (ISO code, e.g. hi).")] = "en",
    generator: GeneratorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Summarize one paper from its passages, in the language you choose, with citations."""
    from paperlens.assistant.llm import get_llm
    from paperlens.assistant.summarize import summarize_stream

    lib = library()
    stream = summarize_stream(lib, paper, lang=lang, llm=get_llm(lib.settings, generator))
    _render_answer(_echo_stream(stream, as_json), as_json)


def _echo_stream(stream, as_json: bool):
    """Print text as it streams; return the final Answer, printing its checked text
    again when the checks changed it (sentences removed, language retried)."""
    from paperlens.assistant.answers import Answer, SummaryProgress

    streamed, final = "", None
    for item in stream:
        if isinstance(item, Answer):
            final = item
        elif isinstance(item, SummaryProgress):
            typer.echo(item.describe(), err=True)
        else:
            streamed += item
            if not as_json:
                typer.echo(item, nl=False)
    if final is None:
        raise PaperlensError("no answer was produced")
    if not as_json and final.text.strip() != streamed.strip():
        typer.echo(f"\n\n--- checked answer ---\n{final.text}", nl=False)
    return final


def _render_answer(answer, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
        return
    typer.echo("")
    for warning in answer.warnings:
        typer.echo(f"(note: {warning})")
    if answer.removed_markers:
        typer.echo(f"({answer.removed_markers} citation markers without a passage were removed)")
    for citation in answer.citations:
        where = f", p.{citation.page}" if citation.page else ""
        typer.echo(f"[{citation.n}] {citation.title}{where}  {citation.url or ''}")
        typer.echo(f"    {snippet(citation.passage, 160)}")


@app.command()
def similar(
    paper: Annotated[str | None, typer.Argument(help="arXiv id, paper id or title.")] = None,
    text: Annotated[str | None, typer.Option(help="Find papers like this text instead.")] = None,
    k: Annotated[int, typer.Option("-k", help="Number of papers.")] = 5,
    as_json: JsonFlag = False,
) -> None:
    """Papers most similar to a paper (itself excluded) or to a piece of text."""
    from paperlens.assistant.similar import similar_to_paper, similar_to_text

    if bool(paper) == bool(text):
        raise PaperlensError("give a paper (arXiv id, id or title) or --text, not both")
    lib = library()
    check_k(k, "-k")
    results = similar_to_text(lib, text, k) if text else similar_to_paper(lib, paper, k)
    if as_json:
        typer.echo(json.dumps([r.to_json() for r in results], ensure_ascii=False, indent=2))
        return
    for rank, result in enumerate(results, 1):
        ref = result.paper.arxiv_id or result.paper.id
        typer.echo(f"{rank}. {result.paper.title}  [{ref}]  {result.score:.3f}")
        for passage in result.why[:1]:
            typer.echo(f"   why ({passage.lang or '?'}): {snippet(passage.text, 160)}")


@app.command()
def generators(as_json: JsonFlag = False) -> None:
    """Answer generators usable now (endpoint, local servers, bundled model), best first."""
    from paperlens.assistant.llm import discover_generators

    options = discover_generators(library().settings)
    if as_json:
        rows = [{"key": o.key, "label": o.label} for o in options]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for n, option in enumerate(options):
        mark = "*" if n == 0 else " "
        typer.echo(f"{mark} {option.key:<40} {option.label}")
    typer.echo("(* = used by default; choose another with PAPERLENS_GENERATOR=KEY)")


@app.command()
def passage(
    passage_id: Annotated[int, typer.Argument(help="A passage id (citations' passage_id).")],
    png: Annotated[
        Path | None, typer.Option(help="Write the PDF page, passage highlighted, here.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show a cited passage in context: its PDF page (as a PNG) or its digest entry."""
    from paperlens.assistant.evidence import passage_context

    evidence = passage_context(library(), passage_id)
    if png is not None:
        why_none = evidence.notes or [f"it is a {evidence.kind} passage"]
        _write_page_image(png, evidence.image, why_none)
    if as_json:
        typer.echo(json.dumps(evidence.to_json(), ensure_ascii=False, indent=2))
        return
    where = f"page {evidence.page}" if evidence.page else evidence.kind
    typer.echo(f"{evidence.title} ({where})  {evidence.url or evidence.source}")
    typer.echo(evidence.context or evidence.text)
    for note in evidence.notes:
        typer.echo(f"note: {note}")
    if png is not None and evidence.image:
        typer.echo(f"page image: {png}")


def _write_page_image(path: Path, image: bytes | None, why_none: list[str]) -> None:
    """Write a passage's page image, or say in one line why there is none."""
    if not image:
        raise PaperlensError(f"no page image to write to {path}: {'; '.join(why_none)}")
    try:
        path.write_bytes(image)
    except OSError as exc:  # a missing folder, a folder named as the file, no permission
        raise PaperlensError(f"cannot write {path} ({exc.strerror or exc})") from exc


@app.command()
def stats(as_json: JsonFlag = False) -> None:
    """Papers, passages, sources, languages, model and index size."""
    data = library().store.stats()
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for key, value in data.items():
        typer.echo(f"{key:>16}: {value}")


@app.command("sources")
def list_sources(as_json: JsonFlag = False) -> None:
    """Every source in the library: URI, kind, status (and why it failed), passages."""
    store = library().store
    counts = store.source_passage_counts()
    rows = [
        {
            "uri": s.uri,
            "kind": s.kind,
            "title": s.title,
            "status": s.status,
            "error": s.error,
            "passages": counts.get(s.uri, 0),
            "ingested_at": s.ingested_at,
            "checked_at": s.checked_at,
            "warnings": s.warnings,
        }
        for s in store.sources()
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo("no sources (add some with `paperlens ingest`)")
    for row in rows:
        line = f"{row['status']:<6} {row['kind']:<6} {row['passages']:>6} passages  {row['uri']}"
        typer.echo(line + (f"  ({row['error']})" if row["error"] else ""))


@app.command()
def forget(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="Sources as `paperlens sources` lists them, or as given to ingest "
            "(file, folder, URL, arXiv id)."
        ),
    ] = None,
    failed: Annotated[
        bool, typer.Option("--failed", help="Also every source whose ingest failed.")
    ] = False,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", "-y", help="Forget without asking when a name (a folder) stands for several."
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Remove sources from the library: their passages, and the papers no other
    source gives. Unknown sources are errors; the others are still forgotten."""
    if not sources and not failed:
        raise PaperlensError("name the sources to forget (see `paperlens sources`), or --failed")
    lib = library()
    forgotten, errors = [], []
    for ref in dict.fromkeys(sources or []):
        try:
            if not yes:
                _confirm_many(ref, lib.sources_named(ref), ask=not as_json and sys.stdin.isatty())
            gone = lib.forget(ref)
        except PaperlensError as exc:
            errors.append({"ref": ref, "error": str(exc)})
            if not as_json:
                typer.echo(f"error: {exc}", err=True)
            continue
        forgotten += gone
        _echo_forgotten(gone, as_json)
    if failed:
        gone = lib.forget_failed()
        forgotten += gone
        _echo_forgotten(gone, as_json)
        if not gone and not as_json:
            typer.echo("no failed sources")
    if as_json:
        data = {"forgotten": [dataclasses.asdict(f) for f in forgotten], "errors": errors}
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    if errors:
        raise typer.Exit(1)


def _confirm_many(ref: str, uris: list[str], ask: bool) -> None:
    """Let a name that stands for several sources (a folder) forget them only once
    the user agrees: asked at a terminal, `--yes` elsewhere."""
    if len(uris) <= 1:
        return
    shown = "\n".join(f"  {uri}" for uri in uris[:10])
    more = f"\n  … and {len(uris) - 10} more" if len(uris) > 10 else ""
    if ask:
        typer.echo(f"{ref} names {len(uris)} sources:\n{shown}{more}", err=True)
        if typer.confirm("forget them all?", default=False, err=True):
            return
        raise PaperlensError(f"{ref}: not forgotten")
    raise PaperlensError(f"{ref} names {len(uris)} sources: add --yes to forget them all")


def _echo_forgotten(forgotten: list[ForgottenSource], as_json: bool) -> None:
    if as_json:
        return
    for gone in forgotten:
        typer.echo(
            f"forgot: {gone.uri} ({gone.status}; {gone.passages} passages, "
            f"{gone.papers} papers removed)"
        )


@app.command()
def reindex(
    index_only: Annotated[
        bool,
        typer.Option(
            "--index-only",
            help="Keep the vectors; rebuild the search index (type chosen by size, "
            "language means refreshed, approximate index retrained).",
        ),
    ] = False,
) -> None:
    """Re-embed every passage with the configured models (or --index-only)."""
    lib = library()
    if index_only:
        spec = lib.store.rebuild_index()
        typer.echo(f"rebuilt the search index: {spec.to_json()}")
        return
    count = lib.reindex(on_event=lambda line: typer.echo(line, err=True))
    typer.echo(f"re-embedded {count} passages")


@app.command()
def migrate(
    to: Annotated[
        str,
        typer.Option(
            "--to", help="Where to copy the library: milvus://HOST:PORT, milvuss://… or a .db path."
        ),
    ],
) -> None:
    """Copy the data directory's library (passages, vectors, caches) into Milvus.

    Nothing is re-embedded. Point PAPERLENS_INDEX_URL at the same address afterwards.
    """
    from paperlens.index.backends import open_milvus
    from paperlens.index.migrate import migrate as copy_library
    from paperlens.index.store import Store

    settings = State.settings or Settings()
    if not (settings.home / "catalog.sqlite").exists():
        raise PaperlensError(f"no library in {settings.home} to migrate (--home or PAPERLENS_HOME)")
    source = Store.open_for_reindex(settings.home)
    target = open_milvus(settings, to, model_name=source.model_name, dim=source.dim)
    try:
        report = copy_library(source, target, on_progress=lambda line: typer.echo(line, err=True))
    finally:
        target.close()
        source.close()
    typer.echo(
        f"copied {report.sources} sources ({report.passages} passages, "
        f"{report.failed_sources} failed) and {report.cached_vectors} cached vectors to {to}; "
        f"set PAPERLENS_INDEX_URL={to} to use it"
    )


@app.command()
def mcp(
    allow_ingest: Annotated[
        bool,
        typer.Option(help="Offer an `ingest` tool (http(s) URLs and arXiv ids only)."),
    ] = False,
    generator: GeneratorOption = None,
) -> None:
    """Serve the library to AI assistants over the Model Context Protocol (stdio).

    Tools: search, ask, similar, summarize, passage, list_papers (and ingest with
    --allow-ingest). Configure your client to run `paperlens mcp` (docs/integrations.md).
    """
    from paperlens.assistant.api import Paperlens
    from paperlens.assistant.mcp_server import run_stdio

    # stdout is the protocol channel: progress bars and notes must stay on stderr.
    lens = Paperlens(library(), generator=generator)
    lens.library.show_progress = False
    run_stdio(lens, allow_ingest=allow_ingest)


@app.command()
def serve(
    port: Annotated[
        int | None,
        typer.Option(help="Port (default: GRADIO_SERVER_PORT, PAPERLENS_PORT, else 7860)."),
    ] = None,
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on (default: GRADIO_SERVER_NAME, else 127.0.0.1)."),
    ] = None,
    root_path: Annotated[
        str | None,
        typer.Option(help="URL prefix behind a reverse proxy (default: GRADIO_ROOT_PATH)."),
    ] = None,
    allow_anonymous: Annotated[
        bool,
        typer.Option(
            "--allow-anonymous",
            help="Serve a network address with no login (everyone is a reader).",
        ),
    ] = False,
) -> None:
    """Start the Gradio app (same as `python app.py`).

    Sign-in: users from `paperlens users add` or a reverse proxy's header
    (PAPERLENS_AUTH=proxy), see docs/deploying.md. With no sign-in the app
    refuses a network address unless --allow-anonymous."""
    from paperlens.assistant.webapp import main as run_app

    run_app(port=port, host=host, root_path=root_path, allow_anonymous=allow_anonymous or None)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name (letters, digits, . @ + - _).")],
    role: Annotated[str, typer.Option(help="reader | librarian")] = "reader",
    proxy_only: Annotated[
        bool,
        typer.Option(help="No password: the user signs in at the reverse proxy (auth=proxy)."),
    ] = False,
) -> None:
    """Add or change a user of the app; the password is asked for and stored hashed."""
    from paperlens.assistant.access import add_user, users_file

    settings = State.settings or Settings()
    path = users_file(settings)
    password = None
    if not proxy_only:
        # PAPERLENS_NEW_PASSWORD lets scripts set one without a terminal.
        password = os.environ.get("PAPERLENS_NEW_PASSWORD") or typer.prompt(
            f"password for {name}", hide_input=True, confirmation_prompt=True
        )
    user = add_user(path, name, role, password)
    typer.echo(f"{user.name}: {user.role} in {path}")


@users_app.command("list")
def users_list() -> None:
    """The users file's names and roles (never their hashes)."""
    from paperlens.assistant.access import load_users, users_file

    path = users_file(State.settings or Settings())
    users = load_users(path)
    if not users:
        typer.echo(f"no users in {path} (the app is open on loopback only)")
    for user in users.values():
        typer.echo(f"{user.name}\t{user.role}\t{'password' if user.hash else 'proxy only'}")


def main() -> None:
    """Console-script entry: user mistakes become one line on stderr, exit 1."""
    try:
        app()
    except PaperlensError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except (OSError, sqlite3.Error) as exc:  # a full disk, a read-only library…
        known = user_error(exc)
        if known is None:
            raise
        typer.echo(f"error: {known}", err=True)
        sys.exit(1)
    except ValidationError as exc:  # a PAPERLENS_* variable or config file entry
        typer.echo(f"error: {describe_invalid(exc)}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
