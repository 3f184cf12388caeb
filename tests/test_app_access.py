"""Against a running app: a reader and a librarian sign in (gradio_client and raw HTTP);
the reader's delete, ingest, re-ingest, forget, upload and settings calls are refused on the
server, anonymous calls are refused, and the library is unchanged by all of them."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from paperlens.assistant.access import LIBRARIAN, add_user
from paperlens.assistant.ui.library import LIBRARY_HEADERS
from tests.fixtures.cli import run
from tests.fixtures.fake_openai import FakeOpenAI
from tests.fixtures.live_app import (
    LIBRARIAN_LOGIN,
    READER_LOGIN,
    add_team,
    digest_library,
    running_app,
)

pytestmark = pytest.mark.slow
ATTENTION = "arxiv:1706.03762"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    home, digests = digest_library(tmp_path_factory, "team")
    add_team(home)
    llm = FakeOpenAI("Attention only [1].")
    try:
        with running_app(home, {"PAPERLENS_LLM_BASE_URL": llm.base_url}) as url:
            yield url, home, digests
    finally:
        llm.close()


def client(url: str, login: tuple[str, str]):
    from gradio_client import Client

    return Client(url, auth=login, verbose=False)


def form(login: tuple[str, str]) -> dict:
    return {"username": login[0], "password": login[1]}


def papers(home: Path) -> set[str]:
    listing = run(home, "search", "attention transformer", "-k", "50", "--json")
    return {hit["paper_id"] for hit in json.loads(listing.stdout)}


def table(*ids: str) -> dict:
    """The Library's papers table as the API takes it, the given papers ticked."""
    rows = [[True, "t", "en", 1, 1, "no", i] for i in ids]
    return {"headers": LIBRARY_HEADERS, "data": rows}


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
    assert refused in reader.predict(source, api_name="/on_forget")
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


def test_a_librarian_may_forget_a_source_but_never_name_a_path_the_library_lacks(app):
    url, home, digests = app
    librarian = client(url, LIBRARIAN_LOGIN)
    source = str((digests / "weekly_ja.txt").resolve())
    assert "not a source of this library" in librarian.predict("/etc/passwd", api_name="/on_forget")
    assert "forgot " in librarian.predict(source, api_name="/on_forget")
    listed = json.loads(run(home, "sources", "--json").stdout)
    assert source not in {row["uri"] for row in listed}


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """The app in proxy mode: the user comes in a header, believed from 127.0.0.1."""
    home, _ = digest_library(tmp_path_factory, "proxy")
    add_user(home / "users.toml", "lena", LIBRARIAN, None)  # known to the proxy only
    env = {"PAPERLENS_AUTH": "proxy", "PAPERLENS_TRUSTED_PROXIES": '["127.0.0.1"]'}
    with running_app(home, env, up_when=("config", 401)) as url:
        yield url


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
