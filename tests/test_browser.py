"""End to end in headless Chromium: ask in Japanese, upload a PDF, click a citation to
see its page, find similar papers, delete by selection, pickers follow the library,
the queue shows a waiting user's place; with logins on, a reader cannot change the
library and a librarian can.

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
from tests.fake_openai import FakeOpenAI
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
    # A slow generator, so a second user's request visibly waits in the queue.
    llm = FakeOpenAI("The model is built only from attention [1].", delay=4.0)
    port = _free_port()
    env = {
        **os.environ,
        "PAPERLENS_HOME": str(home),
        "PAPERLENS_PORT": str(port),
        "PAPERLENS_LOCAL_LLM": "off",
        "PAPERLENS_LLM_BASE_URL": llm.base_url,
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
        llm.close()


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
    # The answer's [1] marker opens that passage in context (here: its digest entry).
    page.locator("a.pl-cite").first.click()
    entry = page.locator("#ask-evidence .pl-evidence")
    entry.wait_for(timeout=60_000)
    assert "Attention Is All You Need" in entry.inner_text()
    assert entry.locator("mark").count() == 1  # the passage, marked inside its entry
    page.screenshot(path=str(ARTIFACTS / "ask-japanese.png"), full_page=True)


def test_upload_a_pdf_and_see_it_in_the_library(page, tmp_path):

    pdf = tmp_path / "attention-sinks.pdf"
    pdf.write_bytes(paper_pdf())
    page.get_by_role("tab", name="Library").click()
    page.get_by_role("button", name="Add to library").wait_for()
    page.wait_for_timeout(2_500)  # let the tab's first refresh tick land before uploading
    uploaded = page.locator("#upload-files").get_by_text("attention-sinks.pdf")
    # Known issue (README): on a loaded machine a file dropped while the tab's first
    # refresh lands can vanish from the box; a user drops it again, and so do we, once.
    for attempt in range(2):
        page.locator("#upload-files input[type=file]").set_input_files(str(pdf))
        try:
            uploaded.wait_for(timeout=30_000)  # upload finished
            break
        except Exception as exc:  # playwright's TimeoutError
            if attempt or "Timeout" not in type(exc).__name__:
                raise
    page.get_by_role("button", name="Add to library").click()
    page.get_by_text("ingested:").first.wait_for(timeout=180_000)
    page.screenshot(path=str(ARTIFACTS / "library-upload.png"), full_page=True)
    # The PDF names arXiv:2309.17453 in its stamp, so it merges into the paper the
    # Japanese digest already described: one row, now with a PDF and two sources.
    # The table follows the catalog on the next refresh tick (every 2 s).
    expected = ["en, ja", "2", "6", "yes", "arxiv:2309.17453"]
    for _ in range(20):
        rows = page.get_by_role("grid").first.inner_text().split("\n")
        row = rows.index("Efficient Streaming Language Models with Attention Sinks")
        if rows[row + 1 : row + 6] == expected:
            break
        page.wait_for_timeout(500)
    assert rows[row + 1 : row + 6] == expected


def test_pickers_follow_the_library_without_a_reload(page):
    # The PDF ingested above is a new title; the Summarize picker lists it without reload.
    page.get_by_role("tab", name="Summarize").click()
    page.get_by_label("Paper", exact=True).click()
    page.get_by_role("option", name="Efficient Streaming Language Models").first.wait_for(
        timeout=30_000
    )
    page.keyboard.press("Escape")


def test_a_citation_opens_its_pdf_page_with_the_passage_highlighted(page):
    page.get_by_role("tab", name="Search").click()
    page.get_by_label("Query (any language)").fill("rolling cache sink tokens rotary ALiBi")
    page.get_by_role("button", name="Search").click()
    row = page.locator("tr[data-passage]").first
    row.wait_for(timeout=60_000)
    row.click()
    heading = page.locator("#search-evidence .pl-evidence h4")
    heading.wait_for(timeout=60_000)
    assert "page 2" in heading.inner_text()
    # An uploaded PDF is shown as its rendered page, never served back as a file
    # (the link, if any, goes to the paper on arXiv).
    links = page.locator("#search-evidence .pl-evidence a")
    for n in range(links.count()):
        assert "gradio_api/file" not in (links.nth(n).get_attribute("href") or "")
    page.locator("#search-evidence-image img").first.wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "citation-page.png"), full_page=True)


def test_delete_papers_by_ticking_them(page):
    page.get_by_role("tab", name="Library").click()
    page.get_by_label("Filter by title or id").fill("Layer Normalization")
    grid = page.get_by_role("grid").first
    page.wait_for_function(
        "() => !document.querySelector('[role=grid]').innerText.includes('LoRA')", timeout=30_000
    )
    grid.locator("input[type=checkbox]").last.check()
    page.get_by_role("button", name="Delete selected").click()
    page.get_by_text("deleted 1 paper").wait_for(timeout=30_000)
    page.get_by_label("Filter by title or id").fill("")
    page.wait_for_function(
        "() => !document.querySelector('[role=grid]').innerText.includes('Layer Normalization')",
        timeout=30_000,
    )
    page.screenshot(path=str(ARTIFACTS / "library-delete.png"), full_page=True)


def test_similar_papers_lists_a_result(page):
    page.get_by_role("tab", name="Similar papers").click()
    page.get_by_label("…or papers like this text").fill(
        "freezing pretrained weights and training low-rank matrices"
    )
    page.get_by_role("button", name="Find similar papers").click()
    table = page.locator("#similar-out table.pl-table").first
    table.wait_for(timeout=60_000)
    assert "LoRA" in table.inner_text()
    page.screenshot(path=str(ARTIFACTS / "similar.png"), full_page=True)


def test_a_second_user_sees_their_place_in_the_queue(page, app_url):
    """Two sessions ask at once; one generator slot, so one of them waits in line."""
    second = page.context.browser.new_page(viewport={"width": 1280, "height": 1000})
    second.goto(app_url)
    second.get_by_text("ready:").wait_for(timeout=60_000)
    for tab in (page, second):
        tab.get_by_role("tab", name="Summarize").click()
        tab.get_by_label("Paper", exact=True).fill("2106.09685")
        tab.keyboard.press("Escape")
    page.get_by_role("button", name="Summarize", exact=True).click()
    second.get_by_role("button", name="Summarize", exact=True).click()
    # The generator gate (assistant/fairuse.py) tells the waiting session its place.
    second.get_by_text("waiting for the generator: 1").first.wait_for(timeout=30_000)
    second.screenshot(path=str(ARTIFACTS / "queue.png"), full_page=True)
    second.get_by_role("button", name="Stop").click()
    # Let the cancel land first: a click racing it would be cancelled with it.
    second.wait_for_timeout(2_000)
    # Stopping gave its place back: asking again is admitted and answered.
    second.get_by_role("button", name="Summarize", exact=True).click()
    second.get_by_text("waiting for the generator").first.wait_for(timeout=30_000)
    second.get_by_text("waiting for the generator").first.wait_for(
        state="hidden", timeout=120_000
    )  # its turn came: the summary (or the passages it falls back to) replaced the line
    assert "⚠️" not in second.evaluate("() => document.body.innerText")
    second.close()


@pytest.fixture(scope="module")
def team_url(tmp_path_factory):
    """The app with logins: a reader and a librarian in its users file."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright", reason="the playwright package is not installed")
    from assistant.access import LIBRARIAN, READER, add_user

    home = tmp_path_factory.mktemp("team-home")
    digests = tmp_path_factory.mktemp("team-digests")
    write_digests(digests)
    run(home, "ingest", "--no-pdfs", str(digests))
    add_user(home / "users.toml", "rita", READER, "reader-pass-1")
    add_user(home / "users.toml", "lena", LIBRARIAN, "librarian-pass-1")
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


def _sign_in(browser, url: str, name: str, password: str):
    tab = browser.new_page(viewport={"width": 1280, "height": 1000})
    tab.goto(url)
    tab.get_by_label("username").fill(name)
    tab.get_by_label("password").fill(password)
    tab.get_by_role("button", name="Login").click()
    tab.get_by_text("ready:").wait_for(timeout=120_000)
    return tab


def test_a_reader_signs_in_and_cannot_change_the_library_a_librarian_can(page, team_url):
    browser = page.context.browser
    anonymous = browser.new_page()
    anonymous.goto(team_url)
    anonymous.get_by_role("button", name="Login").wait_for(timeout=30_000)  # a login page
    assert "ready:" not in anonymous.content()
    anonymous.close()

    reader = _sign_in(browser, team_url, "rita", "reader-pass-1")
    reader.get_by_text("signed in as rita (reader)").wait_for(timeout=30_000)
    reader.get_by_role("tab", name="Library").click()
    assert reader.get_by_role("button", name="Delete selected").is_disabled()
    assert reader.get_by_role("button", name="Add to library").is_disabled()
    reader.screenshot(path=str(ARTIFACTS / "reader-library.png"), full_page=True)
    # Searching is what readers do.
    reader.get_by_role("tab", name="Search").click()
    reader.get_by_label("Query (any language)").fill("low-rank adaptation")
    reader.get_by_role("button", name="Search").click()
    reader.locator("tr[data-passage]").first.wait_for(timeout=60_000)
    reader.close()

    librarian = _sign_in(browser, team_url, "lena", "librarian-pass-1")
    librarian.get_by_text("signed in as lena (librarian)").wait_for(timeout=30_000)
    librarian.get_by_role("tab", name="Library").click()
    delete = librarian.get_by_role("button", name="Delete selected")
    librarian.wait_for_function(
        "() => [...document.querySelectorAll('button')].some("
        "b => b.innerText.includes('Delete selected') && !b.disabled)",
        timeout=30_000,
    )
    assert delete.is_enabled()
    librarian.close()
