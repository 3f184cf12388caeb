"""PDF extraction benchmark on real arXiv PDFs: paperlens vs raw pypdf vs raw pypdfium2.

    .venv/bin/python -m bench.bench_pdf [--skip-ingest]

Data: the PDFs in ../shared/corpus/real/pdfs (next to the repo root; 9 arXiv
papers, two-column and one-column, 249 pages). Nothing is copied from them.

1. Extraction quality and speed, per extractor, in the same run:
   - reference sentences: for each page before the References, pdfium's text
     *by rectangle*, inside the margins (6.5% of the width left and right
     and of the height top and bottom) -- the left half, then the right half
     on two-column pages
     (a page where >= 35% of the characters lie in each half and < 30% cross
     the middle), the whole page otherwise -- joined, de-hyphenated, split
     into sentences of 8-60 words. Rectangles make the reference independent
     of any extractor's text order.
   - "sentences intact": share of reference sentences whose words (lowercase,
     letters and digits only) occur as one contiguous run in the extractor's
     text *of the same page*. Interleaved columns, running heads in the
     middle of a paragraph, unmended hyphens or ligatures, and text on the
     wrong page all break sentences.
   - "reading order": on two-column pages, the share of (left-column sentence,
     right-column sentence) pairs, both found, where the left one comes first.
   - ms/page: extraction time per page.
   The same scores on the generated two-column paper of the tests
   (tests/fixtures/pdfs.py), whose lines are drawn left, right, left, ... so
   a reader that follows the content stream interleaves the columns.
2. Ingest of the 9 PDFs through the library (extract, chunk, embed, store):
   papers/minute, passages/s, time in extraction vs embedding; and the
   embedder on the same passages in input order vs sorted by length (the
   batching `Ingestor.embed_passages` does), same run.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from pypdf import PdfReader

from paperlens.index.library import Library
from paperlens.ingest.chunking import split_section
from paperlens.ingest.config import Settings
from paperlens.ingest.pdf import _paragraphs, extract_pdf, parse_pdf_bytes

logging.getLogger("pypdf").setLevel(logging.ERROR)  # font warnings, not results
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "real" / "pdfs"
LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi"})


# ---- extractors: bytes -> text per page ----------------------------------------------


def raw_pypdf(data: bytes) -> list[str]:
    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages]


def raw_pdfium(data: bytes) -> list[str]:
    document = pdfium.PdfDocument(data)
    texts = [document[i].get_textpage().get_text_range() for i in range(len(document))]
    document.close()
    return texts


def pypdf_cleaned(data: bytes) -> list[str]:
    """pypdf text + paperlens's line cleaning (no layout): the extractor before pypdfium2."""
    return [_paragraphs([(ln, False) for ln in t.splitlines()]) for t in raw_pypdf(data)]


def paperlens(data: bytes) -> list[str]:
    return extract_pdf(data, max_pages=1000).pages


EXTRACTORS: list[tuple[str, Callable[[bytes], list[str]]]] = [
    ("raw pypdf", raw_pypdf),
    ("raw pypdfium2", raw_pdfium),
    ("pypdf + paperlens cleaning", pypdf_cleaned),
    ("paperlens (pypdfium2 layout)", paperlens),
]


# ---- reference sentences by rectangle --------------------------------------------------


def words(text: str) -> str:
    text = text.translate(LIGATURES).lower()
    return " ".join(re.findall(r"[^\W_]+", text))


def sentences(text: str) -> list[str]:
    # pdfium's bounded text marks a line-end hyphen as \x02 and joins the line.
    text = re.sub(r"[\ufffe\u00ad-]\s*\n\s*(?=[a-z])", "", text.translate(LIGATURES))
    text = re.sub(r"\s+", " ", re.sub("[\ufffe\x02]", "", text))
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z])", text)
    return [w for p in parts if 8 <= len((w := words(p)).split()) <= 60]


def reference(data: bytes) -> list[tuple[bool, list[str], list[str]]]:
    """Per page before References: (two_columns, left/whole sentences, right sentences)."""
    document = pdfium.PdfDocument(data)
    pages = []
    for index in range(len(document)):
        page = document[index]
        width, height = page.get_size()
        textpage = page.get_textpage()
        full = textpage.get_text_range()
        if index > 0 and re.search(r"^\s*references\s*$", full, re.I | re.M):
            break
        left = right = cross = 0.0
        for i in range(textpage.count_rects()):  # pdfium's own text-line boxes
            x0, _, x1, _ = textpage.get_rect(i)
            if x1 <= width / 2 + 5:
                left += x1 - x0
            elif x0 >= width / 2 - 5:
                right += x1 - x0
            else:
                cross += x1 - x0
        total = max(1, left + right + cross)
        two = left >= 0.35 * total and right >= 0.35 * total and cross < 0.3 * total
        # Inside the margins: no stamp, line numbers, running heads or page numbers.
        x0, x1, y0, y1 = 0.065 * width, 0.935 * width, 0.065 * height, 0.935 * height
        if two:
            pages.append(
                (
                    True,
                    sentences(textpage.get_text_bounded(x0, y0, width / 2, y1)),
                    sentences(textpage.get_text_bounded(width / 2, y0, x1, y1)),
                )
            )
        else:
            pages.append((False, sentences(textpage.get_text_bounded(x0, y0, x1, y1)), []))
    document.close()
    return pages


def score(pages: list[str], truth) -> tuple[int, int, int, int]:
    """(intact, total, ordered pairs, pairs) over the reference pages."""
    intact = total = ordered = pairs = 0
    for text, (two, left, right) in zip(pages, truth, strict=False):
        flat = " " + words(text) + " "
        spots = [flat.find(" " + s + " ") for s in left + right]
        intact += sum(p >= 0 for p in spots)
        total += len(spots)
        if two:
            lefts = [p for p in spots[: len(left)] if p >= 0]
            rights = [p for p in spots[len(left) :] if p >= 0]
            ordered += sum(a < b for a in lefts for b in rights)
            pairs += len(lefts) * len(rights)
    return intact, total, ordered, pairs


def bench_extractors(files: list[Path]) -> None:
    print(f"\n## 1. Extraction of {len(files)} real arXiv PDFs ({CORPUS})")
    truths = {f: reference(f.read_bytes()) for f in files}
    two_col = sum(t[0] for v in truths.values() for t in v)
    body = sum(len(v) for v in truths.values())
    sentences_total = sum(len(a) + len(b) for v in truths.values() for _, a, b in v)
    print(
        f"  reference: {sentences_total} sentences on {body} pages before References "
        f"({two_col} of them two-column)"
    )
    print(
        f"  {'extractor':<30}{'ms/page':>9}{'sentences intact':>18}{'two-col pages':>15}"
        f"{'reading order':>15}"
    )
    for name, extract in EXTRACTORS:
        seconds = 0.0
        pages_read = 0
        sums = np.zeros(4)
        sums_two = np.zeros(2)
        for f in files:
            data = f.read_bytes()
            start = time.perf_counter()
            texts = extract(data)
            seconds += time.perf_counter() - start
            pages_read += len(texts)
            sums += score(texts, truths[f])
            two_only = [t if t[0] else (False, [], []) for t in truths[f]]
            sums_two += score(texts, two_only)[:2]
        print(
            f"  {name:<30}{1000 * seconds / pages_read:9.1f}{sums[0] / sums[1]:17.1%}"
            f"{sums_two[0] / max(1, sums_two[1]):15.1%}{sums[2] / max(1, sums[3]):15.1%}"
        )
    print("  (sentences intact: all body pages | two-col pages: the two-column ones only)")


def bench_generated() -> None:
    from tests.fixtures.pdfs import TWO_COLUMN_PAGES, two_column_pdf

    data = two_column_pdf()
    truth = [
        (True, sentences("\n".join(t for t, _ in left)), sentences("\n".join(t for t, _ in right)))
        for left, right in TWO_COLUMN_PAGES[:2]  # page 3 has the References
    ]
    print("\n  generated two-column paper, columns interleaved in the content stream:")
    for name, extract in EXTRACTORS:
        intact, total, ordered, pairs = score(extract(data), truth)
        print(f"  {name:<30}{'':9}{intact / total:17.1%}{'':15}{ordered / max(1, pairs):15.1%}")


def bench_rerank_precision(files: list[Path]) -> None:
    """One PDF ingested by model setting, same process: e5 alone (reranker off); e5 +
    EmbeddingGemma in PyTorch bfloat16 (the default before ONNX); EmbeddingGemma
    alone in both stages through ONNX Runtime (the default)."""
    pdf = min(files, key=lambda f: f.stat().st_size)
    print(f"\n## 3. Ingest of {pdf.name} by model setting (same run, models loaded)")
    e5 = "intfloat/multilingual-e5-small"
    base = None
    for label, extra in [
        ("e5, reranker off", {"rerank_model": "off", "embedding_model": e5}),
        (
            "e5 + Gemma torch bfloat16 (before)",
            {"embedding_model": e5, "model_runtime": "torch", "rerank_dtype": "bfloat16"},
        ),  # fmt: skip
        ("Gemma both stages, ONNX (default)", {}),
    ]:
        work = Path(tempfile.mkdtemp(prefix="paperlens-pdf-bench-"))
        try:
            library = Library(Settings(home=work / "data", **extra), show_progress=False)
            library.embedder, library.reranker  # noqa: B018 (load outside the timing)
            start = time.perf_counter()
            report = library.ingest([str(pdf)], pdfs=False)
            elapsed = time.perf_counter() - start
            passages = sum(o.passages for o in report.outcomes)
            base = base or elapsed
            print(
                f"  {label:<30} {elapsed:6.1f} s  {passages / elapsed:5.2f} passages/s  "
                f"({elapsed / base:.1f}x the time of the first row)"
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)


def bench_ingest(files: list[Path]) -> None:
    work = Path(tempfile.mkdtemp(prefix="paperlens-pdf-bench-"))
    try:
        library = Library(Settings(home=work / "data"), show_progress=False)
        embedder = library.embedder  # load the models outside the timing
        library.reranker  # noqa: B018
        start = time.perf_counter()
        report = library.ingest([str(CORPUS)], pdfs=False)
        elapsed = time.perf_counter() - start
        passages = sum(o.passages for o in report.outcomes)
        papers = sum(o.papers for o in report.outcomes)
        start = time.perf_counter()
        for f in files:
            extract_pdf(f.read_bytes(), max_pages=1000)
        extraction = time.perf_counter() - start
        print(
            f"\n## 2. Ingest of the {len(files)} PDFs (extract, chunk, embed, store; model loaded)"
        )
        print(
            f"  {elapsed:.1f} s: {papers / elapsed * 60:.1f} papers/min, "
            f"{passages} passages, {passages / elapsed:.1f} passages/s; "
            f"extraction {extraction:.1f} s ({extraction / elapsed:.0%}), "
            f"the rest is mostly embedding"
        )
        settings = library.settings
        texts = [
            chunk.text
            for f in files
            for paper in parse_pdf_bytes(f.read_bytes(), uri=f.name, settings=settings).papers
            for section in paper.sections
            for chunk in split_section(section, settings)
        ][::8][:160]  # every 8th passage: all papers, a few minutes of CPU at most
        batch = settings.embed_batch_size
        timings = {}
        for label, order in [
            ("input order", list(range(len(texts)))),
            ("sorted by length", sorted(range(len(texts)), key=lambda i: len(texts[i]))),
        ]:
            start = time.perf_counter()
            for i in range(0, len(order), batch):
                embedder.embed_passages([texts[j] for j in order[i : i + batch]])
            timings[label] = time.perf_counter() - start
        lengths = [len(t) for t in texts]
        print(
            f"  embedder on {len(texts)} of those passages (batch {batch}, median "
            f"{statistics.median(lengths):.0f} chars): "
            + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
            + f" -> {timings['input order'] / timings['sorted by length']:.2f}x"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    files = sorted(CORPUS.glob("*.pdf"))
    if not files:
        sys.exit(f"no PDFs in {CORPUS}")
    print(f"paperlens PDF benchmarks ({os.cpu_count()} cores)")
    if "--precision-only" not in sys.argv:
        bench_extractors(files)
        bench_generated()
    if "--precision-only" in sys.argv:
        bench_rerank_precision(files)
    elif "--skip-ingest" not in sys.argv:
        bench_ingest(files)
        bench_rerank_precision(files)
