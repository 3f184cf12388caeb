"""The HTTP door: schemes, private addresses, size caps, retries, politeness."""

from __future__ import annotations

import time

import httpx
import pytest

from ingest.config import Settings
from ingest.errors import FetchError, NetworkUnreachable
from ingest.fetch import Fetcher, check_url_allowed
from tests.httpfixtures import LoopbackServer, Route, closed_port


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        yield srv


def fetcher(tmp_path, **overrides) -> Fetcher:
    values = {"home": tmp_path, "allow_private": True, "http_timeout": 2.0, **overrides}
    return Fetcher(Settings(**values))


@pytest.mark.parametrize(
    "url", ["ftp://example.org/x", "file:///etc/passwd", "javascript:alert(1)"]
)
def test_only_http_and_https(url):
    with pytest.raises(FetchError, match="only http"):
        check_url_allowed(url, allow_private=False)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1/x", "http://localhost:8000/", "http://10.1.2.3/", "http://[::1]/"]
)
def test_private_and_loopback_addresses_are_refused_by_default(url):
    with pytest.raises(FetchError, match="allow-private"):
        check_url_allowed(url, allow_private=False)


def test_loopback_allowed_when_opted_in(tmp_path, server):
    server.routes["/digest.md"] = Route(
        body=b"# hello", headers={"Content-Type": "text/markdown; charset=utf-8"}
    )
    got = fetcher(tmp_path).get(server.url("/digest.md"))
    assert got.content == b"# hello" and got.content_type == "text/markdown"
    assert server.requests[0][1]["User-Agent"].startswith("paperlens/")


def test_every_redirect_hop_is_checked(tmp_path):
    # A public-looking first hop that redirects to a loopback address, answered by
    # an in-process transport: no traffic leaves the process.
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://127.0.0.1/admin"})

    client = Fetcher(Settings(home=tmp_path), transport=httpx.MockTransport(answer))
    with pytest.raises(FetchError, match="127.0.0.1 is a loopback address"):
        client.get("http://93.184.216.34/digest.html")


def test_relative_redirects_are_followed(tmp_path, server):
    server.routes["/ok"] = Route(body=b"ok")
    server.routes["/hop"] = Route(302, headers={"Location": "/ok"})
    assert fetcher(tmp_path).get(server.url("/hop")).content == b"ok"


def test_size_cap_from_content_length_and_while_streaming(tmp_path, server):
    big = b"x" * 5000
    server.routes["/big"] = Route(body=big)
    server.routes["/chunked"] = Route(
        body=b"5000\r\n" + big + b"\r\n0\r\n\r\n", headers={"Transfer-Encoding": "chunked"}
    )
    for path in ("/big", "/chunked"):
        with pytest.raises(FetchError, match="larger than"):
            fetcher(tmp_path).get(server.url(path), max_bytes=1000)


def test_http_errors_are_one_line(tmp_path, server):
    with pytest.raises(FetchError, match=r"^HTTP 404 Not Found: http://127\.0\.0\.1"):
        fetcher(tmp_path).get(server.url("/missing"))


def test_retries_on_503_honouring_retry_after(tmp_path, server):
    server.routes["/flaky"] = Route(body=b"fine", before=[(503, {"Retry-After": "1"})])
    start = time.monotonic()
    assert fetcher(tmp_path).get(server.url("/flaky")).content == b"fine"
    assert len(server.requests) == 2
    assert time.monotonic() - start >= 0.9


def test_gives_up_after_the_configured_retries(tmp_path, server):
    server.routes["/down"] = Route(503, b"down", headers={"Retry-After": "0"})
    with pytest.raises(FetchError, match="HTTP 503"):
        fetcher(tmp_path, http_retries=2).get(server.url("/down"))
    assert len(server.requests) == 3


def test_connection_refused_is_network_unreachable(tmp_path):
    with pytest.raises(NetworkUnreachable):
        fetcher(tmp_path).get(f"http://127.0.0.1:{closed_port()}/x")


def test_politeness_delay_between_requests_to_one_host(tmp_path, server):
    server.routes["/a"] = Route(body=b"a")
    client = fetcher(tmp_path)
    client.get(server.url("/a"), polite_delay=0.5)
    client.get(server.url("/a"), polite_delay=0.5)
    assert server.requests[1][2] - server.requests[0][2] >= 0.45


def test_download_is_atomic_and_checks_pdf_magic(tmp_path, server):
    server.routes["/paper.pdf"] = Route(
        body=b"<html>error page</html>", headers={"Content-Type": "text/html"}
    )
    dest = tmp_path / "cache" / "paper.pdf"
    with pytest.raises(FetchError, match="not a PDF"):
        fetcher(tmp_path).download(server.url("/paper.pdf"), dest, expect_pdf=True)
    assert not dest.exists() and not list(dest.parent.glob("*")) if dest.parent.exists() else True
    server.routes["/real.pdf"] = Route(body=b"%PDF-1.4 tiny")
    path = fetcher(tmp_path).download(server.url("/real.pdf"), dest, expect_pdf=True)
    assert path.read_bytes() == b"%PDF-1.4 tiny"
