"""PDF extraction benchmark: paperlens (pypdf + cleaning) vs raw pypdf vs pypdfium2.

    .venv/bin/python bench/bench_pdf.py

1. A generated 100-page PDF (reportlab; 30 known sentences a page, wrapped
   across lines, running header, page numbers): pages/s for each extractor
   in the same run, and text quality = the fraction of the known sentences
   found verbatim in the extracted text of their page.
2. Ingest-like: ten generated 12-page papers as local files through the
   library (extract, chunk, embed, store): seconds and passages.
"""

from __future__ import annotations

import io
import random
import re
import shutil
import tempfile
import textwrap
import time
from pathlib import Path

from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from index.library import Library
from ingest.config import Settings
from ingest.pdf import extract_pdf

WORDS = [
    "attention",
    "model",
    "layer",
    "token",
    "training",
    "retrieval",
    "passage",
    "embedding",
    "language",
    "transformer",
    "gradient",
    "dataset",
    "benchmark",
    "vector",
    "sparse",
    "dense",
    "query",
    "answer",
    "citation",
    "paper",
]


def sentences_for(page: int, count: int = 30) -> list[str]:
    rng = random.Random(page)
    return [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."
        for _ in range(count)
    ]


def make_pdf(pages: int, title: str = "Benchmark paper") -> tuple[bytes, list[list[str]]]:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(title)
    truth = []
    for number in range(1, pages + 1):
        sentences = sentences_for(number)
        truth.append(sentences)
        pdf.setFont("Helvetica", 8)
        pdf.drawString(72, 815, f"{title} - preprint")
        pdf.drawString(300, 25, str(number))
        pdf.setFont("Helvetica", 9)
        y = 790
        for line in textwrap.wrap(" ".join(sentences), 105):
            pdf.drawString(60, y, line)
            y -= 11
        pdf.showPage()
    pdf.save()
    return buffer.getvalue(), truth


def quality(pages: list[str], truth: list[list[str]]) -> float:
    found = total = 0
    for text, sentences in zip(pages, truth, strict=False):
        flat = re.sub(r"\s+", " ", text)
        found += sum(s in flat for s in sentences)
        total += len(sentences)
    return found / total


def raw_pypdf(data: bytes) -> list[str]:
    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages]


def pdfium(data: bytes) -> list[str]:
    import pypdfium2 as pdfium_lib

    document = pdfium_lib.PdfDocument(data)
    texts = [document[i].get_textpage().get_text_range() for i in range(len(document))]
    document.close()
    return texts


def paperlens(data: bytes) -> list[str]:
    return extract_pdf(data, max_pages=1000).pages


def bench_extractors(pages: int = 100) -> None:
    data, truth = make_pdf(pages)
    print(
        f"\n## 1. Extraction: generated {pages}-page PDF ({len(data) / 1024:.0f} KB, "
        f"{sum(map(len, truth))} known sentences, header + page numbers on every page)"
    )
    rows = []
    for name, extract in [
        ("paperlens (pypdf + cleaning)", paperlens),
        ("raw pypdf", raw_pypdf),
        ("pypdfium2", pdfium),
    ]:
        start = time.perf_counter()
        texts = extract(data)
        elapsed = time.perf_counter() - start
        header_left = sum("preprint" in t for t in texts)
        rows.append(
            (name, pages / elapsed, sum(map(len, texts)), quality(texts, truth), header_left)
        )
    base = rows[1][1]
    print(
        f"  {'extractor':<30}{'pages/s':>9}{'vs pypdf':>10}{'chars':>9}"
        f"{'sentences intact':>18}{'pages w/ header':>17}"
    )
    for name, rate, chars, q, header in rows:
        print(f"  {name:<30}{rate:9.1f}{rate / base:9.2f}x{chars:9d}{q:17.1%}{header:17d}")


def bench_ingest(count: int = 10, pages: int = 12) -> None:
    work = Path(tempfile.mkdtemp(prefix="paperlens-pdf-bench-"))
    try:
        folder = work / "pdfs"
        folder.mkdir()
        for i in range(count):
            data, _ = make_pdf(pages, title=f"Synthetic paper {i}")
            (folder / f"paper{i}.pdf").write_bytes(data)
        library = Library(Settings(home=work / "data"), show_progress=False)
        library.embedder  # noqa: B018  (load the model outside the timing)
        start = time.perf_counter()
        report = library.ingest([str(folder)], pdfs=False)
        elapsed = time.perf_counter() - start
        passages = sum(o.passages for o in report.outcomes)
        extract_start = time.perf_counter()
        for path in folder.iterdir():
            extract_pdf(path.read_bytes(), max_pages=100)
        extract_only = time.perf_counter() - extract_start
        print(
            f"\n## 2. Ingest of {count} local PDFs x {pages} pages (extract, chunk, embed, store)"
        )
        print(
            f"  {elapsed:.1f} s total, {passages} passages, {passages / elapsed:.1f} passages/s; "
            f"extraction alone {extract_only:.2f} s ({extract_only / elapsed:.1%} of it): "
            "embedding dominates"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    print("paperlens PDF benchmarks (all PDFs generated here with reportlab)")
    bench_extractors()
    bench_ingest()
