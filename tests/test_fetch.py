"""The HTTP door: schemes, private addresses, size caps, retries, politeness."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from paperlens.ingest.config import Settings
from paperlens.ingest.errors import FetchError, NetworkUnreachable
from paperlens.ingest.fetch import Fetcher, check_url_allowed
from tests.fixtures.loopback import LoopbackServer, Route, closed_port


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


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",  # decimal
        "http://0x7f000001/",  # hex
        "http://0x7f.1/",
        "http://0177.0.0.1/",  # octal
        "http://127.1/",  # short
        "http://0.0.0.0:8080/",
        "http://[::]/",
        "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
        "http://[::ffff:7f00:1]/",
        "http://[2002:7f00:1::]/",  # 6to4 around 127.0.0.1
        "http://[64:ff9b::a00:1]/",  # NAT64 around 10.0.0.1
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata, link-local
        "http://[fe80::1]/",  # link-local IPv6
        "http://[fd00::1]/",  # unique local
        "http://224.0.0.1/",  # multicast
    ],
)
def test_every_spelling_of_a_private_address_is_refused(url):
    with pytest.raises(FetchError, match="refusing to fetch"):
        check_url_allowed(url, allow_private=False)


def test_credentials_and_absurdly_long_urls_are_refused_in_one_line():
    with pytest.raises(FetchError, match="user name or password"):
        check_url_allowed("https://alice:secret@example.org/digest.md", allow_private=False)
    with pytest.raises(FetchError, match="URL of 100,0"):
        check_url_allowed("https://example.org/" + "a" * 100_000, allow_private=False)


def resolver(monkeypatch, answers: dict[str, list[str]]) -> list[str]:
    """A name service for the test: each lookup of a name pops its next answer."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:  # the address literals the socket layer looks up
            return real(host, port, *args, **kwargs)
        asked.append(host)
        address = answers[host].pop(0) if len(answers[host]) > 1 else answers[host][0]
        return [(2, 1, 6, "", (address, port))]

    monkeypatch.setattr("socket.getaddrinfo", getaddrinfo)
    return asked


def test_dns_rebinding_cannot_move_the_request_to_loopback(tmp_path, monkeypatch):
    """A name answers a public address to the check, then 127.0.0.1: the request
    still goes to the address that was checked, with the name as Host."""
    asked = resolver(monkeypatch, {"rebind.example": ["93.184.216.34", "127.0.0.1"]})
    seen = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, request.headers["host"]))
        return httpx.Response(200, content=b"public digest")

    client = Fetcher(Settings(home=tmp_path), transport=httpx.MockTransport(answer))
    assert client.get("http://rebind.example/digest.md").content == b"public digest"
    assert seen == [("93.184.216.34", "rebind.example")]
    assert asked == ["rebind.example"]  # resolved once


def test_a_name_or_a_redirect_that_resolves_to_a_private_address_is_refused(tmp_path, monkeypatch):
    resolver(monkeypatch, {"intranet.example": ["10.0.0.7"], "ok.example": ["93.184.216.34"]})
    with pytest.raises(FetchError, match="10.0.0.7 is a private"):
        check_url_allowed("https://intranet.example/", allow_private=False)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://intranet.example/admin"})

    client = Fetcher(Settings(home=tmp_path), transport=httpx.MockTransport(answer))
    with pytest.raises(FetchError, match="10.0.0.7 is a private"):
        client.get("http://ok.example/digest.html")


def test_the_request_reaches_the_checked_address_with_the_hosts_name(tmp_path, server, monkeypatch):
    """Over a real socket: the name resolves (once) to the loopback test server."""
    resolver(monkeypatch, {"papers.example": ["127.0.0.1", "192.0.2.1"]})
    server.routes["/digest.md"] = Route(body=b"# pinned")
    url = f"http://papers.example:{server.port}/digest.md"
    assert fetcher(tmp_path).get(url).content == b"# pinned"
    assert server.requests[0][1]["Host"] == f"papers.example:{server.port}"
