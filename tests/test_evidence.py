"""A cited passage in context: the PDF page highlighted, or the digest entry."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from paperlens.assistant.evidence import MAX_HEIGHT, MAX_WIDTH, passage_context, pdf_file
from paperlens.ingest.errors import PaperlensError
from tests.fixtures.digest_texts import write_digests
from tests.fixtures.pdfs import paper_pdf

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def _passage(library, contains: str, kind: str):
    for pid, text, _ in library.store.iter_passage_texts():
        passage = library.store.passages([pid])[pid]
        if contains in text and passage.kind == kind:
            return passage
    raise AssertionError(f"no {kind} passage with {contains!r}")


def _yellow_pixels(png: bytes) -> int:
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    return int(((r > 230) & (g > 200) & (b < 200) & (r - b > 60)).sum())


def test_a_pdf_passage_comes_back_as_its_page_with_the_passage_highlighted(library, tmp_path):
    pdf = tmp_path / "sinks.pdf"
    pdf.write_bytes(paper_pdf())
    library.ingest([str(pdf)], pdfs=False)
    passage = _passage(library, "rotary embeddings", "pdf")

    evidence = passage_context(library, passage.id)

    assert evidence.page == 2 and evidence.kind == "pdf"
    assert evidence.highlighted and evidence.image
    image = Image.open(io.BytesIO(evidence.image))
    assert image.format == "PNG"
    assert image.width <= MAX_WIDTH and image.height <= MAX_HEIGHT
    assert _yellow_pixels(evidence.image) > 1000  # the translucent highlight is drawn
    assert evidence.url.endswith("#page=2")
    assert evidence.source == str(pdf.resolve())
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "evidence-page.png").write_bytes(evidence.image)


def test_a_passage_whose_text_is_not_on_the_page_is_shown_without_highlight(library, tmp_path):
    from paperlens.assistant.evidence import render_page

    pdf = tmp_path / "sinks.pdf"
    pdf.write_bytes(paper_pdf())
    png, found = render_page(pdf, 1, "nothing like this sentence appears anywhere at all")
    assert png and not found and _yellow_pixels(png) == 0
    with pytest.raises(PaperlensError, match="no page 9"):
        render_page(pdf, 9, "x")


def test_a_digest_passage_comes_back_with_its_entry_and_source_link(library, tmp_path):
    write_digests(tmp_path)
    library.ingest([str(tmp_path)], pdfs=False)
    passage = _passage(library, "LoRA", "digest")

    evidence = passage_context(library, passage.id)

    assert evidence.image is None and evidence.kind == "digest"
    assert passage.text in evidence.context
    assert evidence.source.endswith(".txt") and evidence.url.startswith("https://")
    assert evidence.to_json()["has_image"] is False


def test_arxiv_pdfs_are_found_in_the_download_cache(library):
    folder = library.settings.cache_dir / "pdf"
    folder.mkdir(parents=True)
    (folder / "2309.17453v2.pdf").write_bytes(paper_pdf())
    found = pdf_file(library, "https://arxiv.org/abs/2309.17453v2", "2309.17453")
    assert found == folder / "2309.17453v2.pdf"
    assert pdf_file(library, "https://example.org/digest", "2309.17453") == found
    assert pdf_file(library, "https://example.org/digest", "1111.22222") is None


def test_an_unknown_passage_is_a_one_line_error(library):
    with pytest.raises(PaperlensError, match="no passage 12345"):
        passage_context(library, 12345)


@pytest.mark.slow
def test_the_cli_shows_a_passage_in_context(tmp_path):
    import json

    from tests.fixtures.cli import run

    pdf = tmp_path / "sinks.pdf"
    pdf.write_bytes(paper_pdf())
    home = tmp_path / "home"
    run(home, "ingest", str(pdf))
    hits = json.loads(run(home, "search", "rotary embeddings ALiBi", "--json").stdout)
    png = tmp_path / "page.png"
    shown = run(home, "passage", str(hits[0]["passage_id"]), "--png", str(png), "--json")
    evidence = json.loads(shown.stdout)
    assert evidence["page"] == 2 and evidence["has_image"] and evidence["highlighted"]
    assert Image.open(png).format == "PNG"
    for unwritable in (tmp_path / "no" / "such" / "page.png", tmp_path):  # no folder; a folder
        proc = run(
            home, "passage", str(hits[0]["passage_id"]), "--png", str(unwritable), check=False
        )
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert proc.stderr.startswith(f"error: cannot write {unwritable}")


def test_a_page_image_asked_of_a_digest_passage_is_a_one_line_error(tmp_path):
    import json

    from tests.fixtures.cli import run

    (tmp_path / "digest.md").write_text(
        "# Week\n\n- [Attention sinks](https://arxiv.org/abs/2309.17453): streaming models "
        "keep the first tokens as sinks.\n",
        encoding="utf-8",
    )
    home = tmp_path / "home"
    run(home, "ingest", "--no-pdfs", str(tmp_path / "digest.md"))
    hits = json.loads(run(home, "search", "attention sinks", "--json").stdout)
    png = tmp_path / "page.png"
    proc = run(home, "passage", str(hits[0]["passage_id"]), "--png", str(png), check=False)
    assert proc.returncode == 1 and not png.exists()
    assert proc.stderr.startswith(f"error: no page image to write to {png}")
