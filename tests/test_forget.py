"""Forgetting a source: its passages (vectors, postings) and the papers only it gave
leave the library, on both backends, all at once; a source is named as it is listed
or as it was ingested; `paperlens forget` and `paperlens sources` as a user runs them."""

from __future__ import annotations

import dataclasses
import json
import os
import pty
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from paperlens.index.catalog import Catalog
from paperlens.index.library import Library
from paperlens.ingest.config import Settings
from paperlens.ingest.errors import PaperlensError
from tests.fixtures.cli import run
from tests.fixtures.loopback import LoopbackServer, Route

MAMBA, DPO, QLORA = "arxiv:2312.00752", "arxiv:2305.18290", "arxiv:2305.14314"
CHINCHILLA, TOOLFORMER = "arxiv:2203.15556", "arxiv:2302.04761"

# Mamba is described by the English and the Spanish digest; each has one paper of its
# own. The German list shares nothing. "hovercraft" is a word only the English one uses.
ENGLISH = """# Reading group notes

## Papers we read this week
| **Paper** | **Links** |
| --- | --- |
| 1) **Mamba: Linear-Time Sequence Modeling with Selective State Spaces** - a recurrent layer whose state update depends on its input, so it chooses what to remember; one of us likened it to a hovercraft skimming over very long sequences. | [Paper](https://arxiv.org/abs/2312.00752) |
| 2) **Direct Preference Optimization: Your Language Model is Secretly a Reward Model** - tunes a model straight from pairs of preferred and rejected answers, with no reward model and no reinforcement learning loop. | [Paper](https://arxiv.org/abs/2305.18290) |
"""
SPANISH = """# Lecturas de la semana

| **Artículo** | **Enlaces** |
| --- | --- |
| 1) **Mamba: Linear-Time Sequence Modeling with Selective State Spaces** - un modelo de espacio de estados cuyos parámetros dependen de la entrada, con un coste lineal en la longitud de la secuencia. | [Paper](https://arxiv.org/abs/2312.00752) |
| 2) **QLoRA: Efficient Finetuning of Quantized LLMs** - ajusta un modelo grande cuantizado a cuatro bits entrenando solo adaptadores de bajo rango, en una sola tarjeta gráfica. | [Paper](https://arxiv.org/abs/2305.14314) |
"""
GERMAN = """# Lektüre der Woche

| **Paper** | **Links** |
| --- | --- |
| 1) **Training Compute-Optimal Large Language Models** - zeigt, dass Modellgröße und Zahl der Trainingstokens im gleichen Verhältnis wachsen sollten: ein kleineres Modell mit mehr Daten schlägt ein größeres. | [Paper](https://arxiv.org/abs/2203.15556) |
| 2) **Toolformer: Language Models Can Teach Themselves to Use Tools** - ein Sprachmodell lernt selbst, wann es einen Taschenrechner, eine Suchmaschine oder einen Kalender aufruft. | [Paper](https://arxiv.org/abs/2302.04761) |
"""
MODES = ("dense", "bm25", "hybrid")


@pytest.fixture
def digests(tmp_path) -> dict[str, Path]:
    folder = tmp_path / "digests"
    folder.mkdir()
    files = {"en": "weekly_en.md", "es": "lista_es.md", "de": "liste_de.md"}
    paths = {lang: folder / name for lang, name in files.items()}
    for lang, text in (("en", ENGLISH), ("es", SPANISH), ("de", GERMAN)):
        paths[lang].write_text(text, encoding="utf-8")
    return paths


def _library(settings: Settings, embedder) -> Library:
    lib = Library(settings, show_progress=False)
    lib.__dict__["embedder"] = embedder  # share the session's model
    return lib


@pytest.fixture
def plain(tmp_path, embedder):
    lib = _library(Settings(home=tmp_path / "data"), embedder)
    yield lib
    lib.store.close()


@pytest.fixture
def milvus(tmp_path, embedder):
    """A library in Milvus Lite; its in-process server is stopped afterwards."""
    pytest.importorskip("pymilvus")
    pytest.importorskip("milvus_lite")
    from milvus_lite.server_manager import server_manager_instance

    path = tmp_path / "library.db"
    lib = _library(Settings(home=tmp_path / "data", index_url=str(path)), embedder)
    try:
        yield lib
    finally:
        try:
            if "store" in lib.__dict__:
                lib.store.close()
        finally:
            server_manager_instance.release_server(str(path))


@pytest.fixture(params=["plain", "milvus"])
def lib(request) -> Library:
    return request.getfixturevalue(request.param)


def _sources_in_results(lib: Library, query: str) -> set[str]:
    """The sources of every passage any search mode returns for `query`."""
    return {h.source for mode in MODES for h in lib.searcher.search_passages(query, 50, mode)}


def _passages_by_source(lib: Library, paper_id: str) -> dict[str, list[int]]:
    uris = lib.store.source_uris({p.source_id for p in lib.store.paper_passages(paper_id)})
    found: dict[str, list[int]] = {}
    for p in lib.store.paper_passages(paper_id):
        found.setdefault(uris[p.source_id], []).append(p.id)
    return found


def _figures(lib: Library) -> dict:
    stats = lib.store.stats()
    return {k: stats[k] for k in ("papers", "passages", "sources", "failed_sources", "languages")}


def test_a_paper_another_source_also_gave_stays_with_only_that_sources_passages(lib, digests):
    lib.ingest([str(digests["en"]), str(digests["es"])], pdfs=False)
    english, spanish = (str(digests[lang].resolve()) for lang in ("en", "es"))
    before = _passages_by_source(lib, MAMBA)
    assert set(before) == {english, spanish}
    assert english in _sources_in_results(lib, "hovercraft skimming over long sequences")
    counts = lib.store.source_passage_counts()

    [gone] = lib.forget(str(digests["en"]))

    assert (gone.uri, gone.status, gone.passages, gone.papers) == (
        english,
        "ok",
        counts[english],
        1,  # Direct Preference Optimization: only the English digest gave it
    )
    assert _passages_by_source(lib, MAMBA) == {spanish: before[spanish]}
    assert lib.store.paper(MAMBA).sources == [spanish]
    assert lib.store.paper(DPO) is None and lib.store.paper(QLORA) is not None
    assert lib.store.source(english) is None
    assert [s.uri for s in lib.store.sources()] == [spanish]
    assert lib.store.source_passage_counts() == {spanish: counts[spanish]}
    assert len(lib.store.lexical.search("hovercraft", 10)[0]) == 0
    for query in ("hovercraft skimming over long sequences", "preference pairs without reward"):
        assert english not in _sources_in_results(lib, query)
    assert lib.searcher.search("espacio de estados lineal", k=1)[0].paper_id == MAMBA


def test_a_source_with_only_its_own_papers_takes_them_along_and_can_come_back(lib, digests):
    lib.ingest([str(p) for p in digests.values()], pdfs=False)
    german = str(digests["de"].resolve())
    full = _figures(lib)
    own = lib.store.source_passage_counts()[german]
    assert german in _sources_in_results(lib, "Taschenrechner Suchmaschine Kalender")

    [gone] = lib.forget(german)  # the stored URI itself

    assert (gone.status, gone.passages, gone.papers) == ("ok", own, 2)
    after = _figures(lib)
    assert after["papers"] == full["papers"] - 2
    assert after["passages"] == full["passages"] - gone.passages
    assert after["sources"] == full["sources"] - 1
    assert "de" not in after["languages"]
    assert lib.store.paper(CHINCHILLA) is None and lib.store.paper(TOOLFORMER) is None
    for query in ("Taschenrechner Suchmaschine Kalender", "compute-optimal training tokens"):
        assert german not in _sources_in_results(lib, query)
        hits = lib.searcher.search(query, k=10)
        assert not {h.paper_id for h in hits} & {CHINCHILLA, TOOLFORMER}

    report = lib.ingest([str(digests["de"])], pdfs=False)
    assert [o.status for o in report.outcomes] == ["ingested"]  # not "unchanged"
    assert _figures(lib) == full
    hit = lib.searcher.search("Sprachmodell ruft Taschenrechner auf", k=1)[0]
    assert hit.paper_id == TOOLFORMER and hit.source == german


def test_what_a_source_said_about_a_shared_paper_leaves_with_it(lib, digests):
    """A paper two sources describe keeps only what the remaining one says: a link
    the other gave goes when that source is re-ingested without it, or forgotten."""
    code = "https://github.com/state-spaces/mamba"
    listed = "[Paper](https://arxiv.org/abs/2312.00752)"
    with_code = digests["en"].parent / "weekly_code.md"
    with_code.write_text(ENGLISH.replace(listed, f"{listed}, [Code]({code})"), encoding="utf-8")
    lib.ingest([str(digests["es"]), str(with_code)], pdfs=False)
    assert lib.store.paper(MAMBA).links["code"] == code

    with_code.write_text(ENGLISH, encoding="utf-8")  # the digest drops the link
    assert [o.status for o in lib.ingest([str(with_code)], pdfs=False).outcomes] == ["ingested"]
    assert "code" not in lib.store.paper(MAMBA).links

    with_code.write_text(ENGLISH.replace(listed, f"{listed}, [Code]({code})"), encoding="utf-8")
    lib.ingest([str(with_code)], pdfs=False)
    assert lib.store.paper(MAMBA).links["code"] == code
    lib.forget(str(with_code))
    mamba = lib.store.paper(MAMBA)
    assert "code" not in mamba.links and mamba.links["paper"].endswith("2312.00752")
    assert mamba.sources == [str(digests["es"].resolve())]


def test_passage_ids_are_never_given_again_so_old_citations_cannot_name_other_text(lib, digests):
    lib.ingest([str(digests["en"]), str(digests["de"])], pdfs=False)
    german = str(digests["de"].resolve())
    cited = {p.id for pid in (CHINCHILLA, TOOLFORMER) for p in lib.store.paper_passages(pid)}

    lib.forget(german)  # the newest passages: plain SQLite would hand their ids out again
    lib.ingest([str(digests["es"])], pdfs=False)

    new = {p.id for pid in (QLORA,) for p in lib.store.paper_passages(pid)}
    assert new and not new & cited
    assert lib.store.passages(cited) == {}


def test_an_unknown_source_is_an_error_and_nothing_changes(lib, digests):
    lib.ingest([str(digests["es"])], pdfs=False)
    before = _figures(lib)
    for ref in ("missing.md", "2401.00001", "https://example.org/never.md", ""):
        with pytest.raises(PaperlensError, match="no such source in the library"):
            lib.forget(ref)
    assert _figures(lib) == before


def test_a_failed_source_is_forgotten_and_refresh_stops_retrying_it(tmp_path, embedder):
    settings = Settings(
        home=tmp_path / "data", allow_private=True, refresh_delay_seconds=0.0, http_retries=0
    )
    lib = _library(settings, embedder)
    with LoopbackServer() as server:
        server.routes["/gone.md"] = Route(status=404, body=b"gone")
        url = server.url("/gone.md")
        assert not lib.ingest([url], pdfs=False).succeeded
        assert [(s.uri, s.status) for s in lib.store.sources()] == [(url, "failed")]
        assert [o.uri for o in lib.refresh().outcomes] == [url]  # retried every time
        asked = len(server.requests)

        [gone] = lib.forget_failed()

        assert (gone.uri, gone.status, gone.passages, gone.papers) == (url, "failed", 0, 0)
        assert lib.store.sources() == [] and lib.store.stats()["failed_sources"] == 0
        assert lib.refresh().outcomes == [] and len(server.requests) == asked
        assert lib.forget_failed() == []
    lib.store.close()


def test_a_source_is_named_as_it_was_ingested(tmp_path, embedder, digests, monkeypatch):
    english, spanish = (str(digests[lang].resolve()) for lang in ("en", "es"))
    with LoopbackServer() as server:  # every path answers 404, the arXiv API's too
        settings = Settings(
            home=tmp_path / "data",
            http_retries=0,
            arxiv_delay_seconds=0.0,
            arxiv_api_url=server.url("/api/query"),
            allow_private=True,
        )
        lib = _library(settings, embedder)
        monkeypatch.chdir(digests["en"].parent)
        secret = server.url("/list.md").replace("://", "://reader:hunter2@")
        lib.ingest(["weekly_en.md", "lista_es.md", secret, "2401.00001"], pdfs=False)
        stored = {s.uri: s.status for s in lib.store.sources()}
        assert stored[server.url("/list.md")] == "failed" and stored["2401.00001"] == "failed"

        assert [g.uri for g in lib.forget("./weekly_en.md")] == [english]
        assert [g.uri for g in lib.forget(secret)] == [server.url("/list.md")]
        assert [g.uri for g in lib.forget("arXiv:2401.00001")] == ["2401.00001"]
        # A folder names every source stored from below it, files since deleted too.
        digests["es"].unlink()
        assert [g.uri for g in lib.forget(str(digests["es"].parent))] == [spanish]
        assert lib.store.sources() == []
    lib.store.close()


def test_a_failure_midway_leaves_the_data_directory_as_it_was(plain, digests, monkeypatch):
    plain.ingest([str(digests["en"]), str(digests["es"])], pdfs=False)
    before = _figures(plain)
    english = str(digests["en"].resolve())

    def disk_error(db):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Catalog, "_delete_orphan_papers", staticmethod(disk_error))
    with pytest.raises(sqlite3.OperationalError):
        plain.forget(english)
    monkeypatch.undo()

    assert _figures(plain) == before
    assert plain.store.source(english).status == "ok"
    assert plain.store.paper(DPO) is not None
    assert len(plain.store.lexical.search("hovercraft", 10)[0]) == 1
    assert english in _sources_in_results(plain, "hovercraft skimming over long sequences")
    assert plain.store.passage_index().ntotal == before["passages"]
    assert plain.forget(english)[0].papers == 1  # and it still goes when asked again


def test_on_milvus_a_failure_after_the_commit_point_leaves_only_invisible_rows(milvus, digests):
    """The source row is the commit point: once it is gone, none of the source's rows
    show, even if removing them failed; the source's next ingest clears them."""
    milvus.ingest([str(digests["en"]), str(digests["es"])], pdfs=False)
    full = _figures(milvus)
    english = str(digests["en"].resolve())
    own = milvus.store.source_passage_counts()[english]
    store = milvus.store
    delete = store.client.delete

    def fail_on_passages(collection, *args, **kwargs):
        if collection.endswith("_passages"):
            raise ConnectionError("network down")
        return delete(collection, *args, **kwargs)

    store.client.delete = fail_on_passages
    try:
        with pytest.raises(ConnectionError):
            milvus.forget(english)
    finally:
        store.client.delete = delete

    assert store.source(english) is None
    assert _figures(milvus)["passages"] == full["passages"] - own
    assert milvus.store.paper(DPO) is None
    assert len(store.lexical.search("hovercraft", 10)[0]) == 0
    assert english not in _sources_in_results(milvus, "hovercraft skimming over long sequences")
    assert [o.status for o in milvus.ingest([english], pdfs=False).outcomes] == ["ingested"]
    assert _figures(milvus) == full


# ---- the command line ----------------------------------------------------------------


@pytest.fixture
def home(tmp_path, digests) -> Path:
    """A data directory with three digests and two sources whose ingest failed."""
    home = tmp_path / "home"
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04 a word file, not a digest")
    proc = run(
        home,
        "ingest",
        "--no-pdfs",
        str(digests["en"].parent),
        str(tmp_path / "notes.docx"),
        "http://127.0.0.1:9/refused.md",  # loopback without --allow-private
    )
    assert "3 ingested" in proc.stdout and "2 failed" in proc.stdout
    return home


def test_sources_lists_uri_kind_status_and_passages(home, digests, tmp_path):
    listed = {row["uri"]: row for row in json.loads(run(home, "sources", "--json").stdout)}
    english = str(digests["en"].resolve())
    assert set(listed) == {
        *(str(p.resolve()) for p in digests.values()),
        str(tmp_path / "notes.docx"),
        "http://127.0.0.1:9/refused.md",
    }
    assert listed[english]["status"] == "ok" and listed[english]["kind"] == "digest"
    assert listed[english]["passages"] > 0 and listed[english]["error"] is None
    refused = listed["http://127.0.0.1:9/refused.md"]
    assert refused["status"] == "failed" and refused["passages"] == 0
    assert "loopback" in refused["error"]
    stats = json.loads(run(home, "stats", "--json").stdout)
    assert sum(row["passages"] for row in listed.values()) == stats["passages"]

    text = run(home, "sources").stdout.splitlines()
    assert len(text) == 5
    assert any(line.startswith("failed") and "refused.md" in line for line in text)


def test_forget_from_the_command_line(home, digests):
    before = json.loads(run(home, "stats", "--json").stdout)

    proc = run(home, "forget", str(digests["de"]), "nowhere.md", check=False)

    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [
        "error: nowhere.md: no such source in the library (`paperlens sources` lists them)"
    ]
    [line] = proc.stdout.splitlines()
    assert line.startswith(f"forgot: {digests['de'].resolve()} (ok; ")
    assert line.endswith(" passages, 2 papers removed)")
    after = json.loads(run(home, "stats", "--json").stdout)
    assert after["papers"] == before["papers"] - 2 and after["sources"] == before["sources"] - 1

    failed = json.loads(run(home, "forget", "--failed", "--json").stdout)
    assert failed["errors"] == [] and len(failed["forgotten"]) == 2
    assert {f["status"] for f in failed["forgotten"]} == {"failed"}
    assert {f["passages"] for f in failed["forgotten"]} == {0}
    listed = json.loads(run(home, "sources", "--json").stdout)
    assert {row["status"] for row in listed} == {"ok"} and len(listed) == 2
    assert json.loads(run(home, "stats", "--json").stdout)["failed_sources"] == 0
    assert run(home, "forget", "--failed").stdout == "no failed sources\n"

    nothing = run(home, "forget", check=False)
    assert nothing.returncode == 1 and nothing.stderr.startswith("error: name the sources")


def test_a_folder_of_several_sources_is_forgotten_only_when_the_user_agrees(home, digests):
    folder = str(digests["en"].parent)
    refused = run(home, "forget", folder, check=False)  # not at a terminal: --yes is needed
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.splitlines() == [
        f"error: {folder} names 3 sources: add --yes to forget them all"
    ]
    assert len(json.loads(run(home, "sources", "--json").stdout)) == 5

    at_terminal = answer_at_terminal(home, ["forget", folder], "n\n")
    assert at_terminal.returncode == 1 and "names 3 sources" in at_terminal.output
    assert "not forgotten" in at_terminal.output
    assert len(json.loads(run(home, "sources", "--json").stdout)) == 5

    agreed = answer_at_terminal(home, ["forget", folder], "y\n")
    assert agreed.returncode == 0 and agreed.output.count("forgot: ") == 3
    assert len(json.loads(run(home, "sources", "--json").stdout)) == 2


def test_yes_forgets_a_folder_without_asking(home, digests):
    proc = run(home, "forget", "--yes", str(digests["en"].parent), "--json")
    assert len(json.loads(proc.stdout)["forgotten"]) == 3


@dataclasses.dataclass
class TerminalRun:
    returncode: int
    output: str


def answer_at_terminal(home: Path, args: list[str], answer: str) -> TerminalRun:
    """`paperlens ARGS` with a terminal for stdin (a pseudo-terminal), `answer` typed."""
    controller, terminal = pty.openpty()
    env = {**os.environ, "PAPERLENS_HOME": str(home)}
    with subprocess.Popen(
        [sys.executable, "-m", "paperlens", *args],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    ) as proc:
        os.close(terminal)
        os.write(controller, answer.encode())
        output, _ = proc.communicate(timeout=300)
    os.close(controller)
    return TerminalRun(proc.returncode, output)
