"""End to end in headless Chromium: ask in Japanese, upload a PDF, find similar papers.

Needs Debian's chromium (/usr/bin/chromium; `make test` installs it when it
can) and the playwright Python package (it drives the system browser; no
browser download). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.digest_texts import write_digests
from tests.pdf_fixtures import paper_pdf
from tests.test_cli import run

pytestmark = pytest.mark.slow
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright", reason="the playwright package is not installed")
    home = tmp_path_factory.mktemp("app-home")
    digests = tmp_path_factory.mktemp("digests")
    write_digests(digests)
    run(home, "ingest", "--no-pdfs", str(digests))
    port = _free_port()
    env = {
        **os.environ,
        "PAPERLENS_HOME": str(home),
        "PAPERLENS_PORT": str(port),
        "PAPERLENS_LOCAL_LLM": "off",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(
        [sys.executable, str(root / "app.py")],
        env=env,
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _wait_for(url: str, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the app exited during start-up"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError("the app did not start")


@pytest.fixture(scope="module")
def page(app_url):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(app_url)
        page.get_by_text("ready:").wait_for(timeout=120_000)
        yield page
        browser.close()


def test_ask_in_japanese_shows_a_cited_source_passage(page):
    page.get_by_role("tab", name="Ask").click()
    page.get_by_label("Question").fill("注意機構だけで作られた翻訳モデルは？")
    page.get_by_role("button", name="Ask", exact=True).click()
    source = page.locator(".pl-source").first
    source.wait_for(timeout=120_000)
    assert "Attention Is All You Need" in source.inner_text()
    assert "[1]" in source.inner_text()
    page.screenshot(path=str(ARTIFACTS / "ask-japanese.png"), full_page=True)


def test_upload_a_pdf_and_see_it_in_the_library(page, tmp_path):
    pdf = tmp_path / "attention-sinks.pdf"
    pdf.write_bytes(paper_pdf())
    page.get_by_role("tab", name="Library").click()
    page.locator("input[type=file][multiple]").set_input_files(str(pdf))
    page.get_by_text("attention-sinks.pdf").first.wait_for(timeout=60_000)  # upload finished
    page.get_by_role("button", name="Add to library").click()
    page.get_by_text("ingested:").first.wait_for(timeout=180_000)
    page.screenshot(path=str(ARTIFACTS / "library-upload.png"), full_page=True)
    # The PDF names arXiv:2309.17453 in its stamp, so it merges into the paper the
    # Japanese digest already described: one row, now with a PDF and two sources.
    rows = page.get_by_role("grid").first.inner_text().split("\n")
    row = rows.index("Efficient Streaming Language Models with Attention Sinks")
    assert rows[row + 1 : row + 6] == ["en, ja", "2", "6", "yes", "arxiv:2309.17453"]


def test_similar_papers_lists_a_result(page):
    page.get_by_role("tab", name="Similar papers").click()
    page.get_by_label("…or papers like this text").fill(
        "freezing pretrained weights and training low-rank matrices"
    )
    page.get_by_role("button", name="Find similar papers").click()
    table = page.locator("table.pl-table").first
    table.wait_for(timeout=60_000)
    assert "LoRA" in table.inner_text()
    page.screenshot(path=str(ARTIFACTS / "similar.png"), full_page=True)
