"""Against a running app: a reader and a librarian sign in (gradio_client and raw HTTP);
the reader's delete, ingest, re-ingest, upload and settings calls are refused on the
server, anonymous calls are refused, and the library is unchanged by all of them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from assistant.access import LIBRARIAN, READER, add_user
from tests.digest_texts import write_digests
from tests.fake_openai import FakeOpenAI
from tests.test_browser import _free_port, _wait_for
from tests.test_cli import run

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
READER_LOGIN = ("rita", "reader-pass-1")
LIBRARIAN_LOGIN = ("lena", "librarian-pass-1")
ATTENTION = "arxiv:1706.03762"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    digests = tmp_path_factory.mktemp("digests")
    write_digests(digests)
    run(home, "ingest", "--no-pdfs", str(digests))
    add_user(home / "users.toml", READER_LOGIN[0], READER, READER_LOGIN[1])
    add_user(home / "users.toml", LIBRARIAN_LOGIN[0], LIBRARIAN, LIBRARIAN_LOGIN[1])
    llm = FakeOpenAI("Attention only [1].")
    port = _free_port()
    env = {
        **os.environ,
        "PAPERLENS_HOME": str(home),
        "PAPERLENS_PORT": str(port),
        "PAPERLENS_LOCAL_LLM": "off",
        "PAPERLENS_LLM_BASE_URL": llm.base_url,
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for(url, proc)
        yield url, home, digests
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        llm.close()


def client(url: str, login: tuple[str, str]):
    from gradio_client import Client

    return Client(url, auth=login, verbose=False)


def form(login: tuple[str, str]) -> dict:
    return {"username": login[0], "password": login[1]}


def papers(home: Path) -> set[str]:
    import json

    listing = run(home, "search", "attention transformer", "-k", "50", "--json")
    return {hit["paper_id"] for hit in json.loads(listing.stdout)}


def table(*ids: str) -> dict:
    headers = ["Select", "Title", "Languages", "Sources", "Passages", "PDF", "id"]
    return {"headers": headers, "data": [[True, "t", "en", 1, 1, "no", i] for i in ids]}


def test_anonymous_calls_are_refused_when_login_is_on(app):
    url, *_ = app
    for path in ("config", "gradio_api/info"):
        assert httpx.get(url + path).status_code == 401
    call = httpx.post(url + "gradio_api/call/on_delete", json={"data": [table(ATTENTION)]})
    assert call.status_code == 401
    upload = httpx.post(url + "gradio_api/upload", files=[("files", ("a.md", b"# a"))])
    assert upload.status_code == 403
    assert httpx.post(url + "login", data={"username": "rita", "password": "nope"}).is_error


def test_a_readers_changes_are_refused_on_the_server(app, tmp_path):
    url, home, digests = app
    before = papers(home)
    assert ATTENTION in before
    reader = client(url, READER_LOGIN)
    refused = "only librarians may change the library"
    assert refused in reader.predict(table(ATTENTION), api_name="/on_delete")
    assert refused in reader.predict("2106.09685", None, False, api_name="/on_add")
    source = str((digests / "weekly_ja.txt").resolve())
    assert refused in reader.predict(source, api_name="/on_reingest")
    note, _ = reader.predict("none", api_name="/on_generator")
    assert refused in note
    # Searching and asking remain open to readers.
    assert "Attention" in reader.predict("attention only translation model", api_name="/lambda")
    assert papers(home) == before


def test_a_readers_upload_is_refused_by_the_server(app):
    url, *_ = app
    with httpx.Client(base_url=url) as http:
        login = http.post("login", data=form(READER_LOGIN))
        assert login.status_code == 200
        upload = http.post("gradio_api/upload", files=[("files", ("a.md", b"# a"))])
        assert upload.status_code == 403
        assert "only librarians" in upload.text


def test_a_librarian_may_upload_switch_the_generator_and_delete(app):
    url, home, _ = app
    with httpx.Client(base_url=url) as http:
        http.post("login", data=form(LIBRARIAN_LOGIN))
        upload = http.post("gradio_api/upload", files=[("files", ("a.md", b"# a"))])
        assert upload.status_code == 200
    librarian = client(url, LIBRARIAN_LOGIN)
    note, _ = librarian.predict("none", api_name="/on_generator")
    assert "new questions now use" in note
    assert "deleted 1 paper" in librarian.predict(table(ATTENTION), api_name="/on_delete")
    assert ATTENTION not in papers(home)


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """The app in proxy mode: the user comes in a header, believed from 127.0.0.1."""
    home = tmp_path_factory.mktemp("proxy-home")
    digests = tmp_path_factory.mktemp("proxy-digests")
    write_digests(digests)
    run(home, "ingest", "--no-pdfs", str(digests))
    add_user(home / "users.toml", "lena", LIBRARIAN, None)  # known to the proxy only
    port = _free_port()
    env = {
        **os.environ,
        "PAPERLENS_HOME": str(home),
        "PAPERLENS_PORT": str(port),
        "PAPERLENS_LOCAL_LLM": "off",
        "PAPERLENS_AUTH": "proxy",
        "PAPERLENS_TRUSTED_PROXIES": '["127.0.0.1"]',
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for_status(url, proc, 401)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _wait_for_status(url: str, proc, expected: int, seconds: float = 120) -> None:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the app exited during start-up"
        try:
            if httpx.get(url + "config", timeout=2).status_code == expected:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("the app did not start")


def test_proxy_mode_takes_the_user_from_the_proxys_header(proxied):
    from gradio_client import Client

    assert httpx.get(proxied + "config").status_code == 401  # no header: nobody
    as_reader = {"X-Forwarded-User": "someone"}  # not in the users file: a reader
    assert httpx.get(proxied + "config", headers=as_reader).status_code == 200
    # A real proxy also sends X-Forwarded-For: the peer checked is still the proxy.
    forwarded = {**as_reader, "X-Forwarded-For": "203.0.113.9"}
    assert httpx.get(proxied + "config", headers=forwarded).status_code == 200
    upload = httpx.post(
        proxied + "gradio_api/upload", headers=as_reader, files=[("files", ("a.md", b"# a"))]
    )
    assert upload.status_code == 403
    reader = Client(proxied, headers=as_reader, verbose=False)
    assert "only librarians" in reader.predict(table(ATTENTION), api_name="/on_delete")
    librarian = Client(proxied, headers={"X-Forwarded-User": "lena"}, verbose=False)
    assert "deleted 1 paper" in librarian.predict(table(ATTENTION), api_name="/on_delete")
