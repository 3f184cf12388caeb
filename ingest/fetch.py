"""The one HTTP door: http(s) only, no private addresses, size caps, retries.

Every download in paperlens goes through `Fetcher`, so the safety rules hold
everywhere: a digest URL typed by a user, an arXiv PDF, a redirect target.

Each hop's host is resolved once, every address is checked, and the request
goes to a checked address (the Host header and TLS name stay the host's).
Resolving again to connect would let a DNS-rebinding name answer a public
address to the check and 127.0.0.1 to the connection.
"""

from __future__ import annotations

import contextlib
import email.utils
import ipaddress
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from paperlens.ingest.config import Settings
from paperlens.ingest.errors import FetchError, NetworkUnreachable

RETRY_STATUS = {429, 500, 502, 503, 504}
MAX_URL_CHARS = 8192
NAT64 = ipaddress.ip_network("64:ff9b::/96")
MAX_REDIRECTS = 5
MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class Fetched:
    url: str
    final_url: str
    content: bytes
    content_type: str | None  # mime type only, lowercased
    etag: str | None = None  # validators for the next conditional request
    last_modified: str | None = None
    not_modified: bool = False  # a 304 to a conditional request: no content


@dataclass(frozen=True)
class _Answer:
    """One final (non-redirect) response, read within the size cap."""

    content_type: str | None
    chunks: list[bytes]
    etag: str | None
    last_modified: str | None
    not_modified: bool


class Fetcher:
    """A polite, size-capped HTTP client; one per ingest run."""

    def __init__(self, settings: Settings, *, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self._client = httpx.Client(
            timeout=settings.http_timeout,
            follow_redirects=False,  # each hop is checked by hand
            headers={"User-Agent": settings.user_agent},
            transport=transport,
            # Connections are made to addresses, not names: a pooled one must never
            # carry a request for another host that shares the address.
            limits=httpx.Limits(max_keepalive_connections=0),
            trust_env=False,  # a proxy would resolve the name again, unchecked
        )
        self._last_request: dict[str, float] = {}
        self._lock = threading.Lock()

    def get(
        self,
        url: str,
        *,
        max_bytes: int | None = None,
        polite_delay: float = 0.0,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Fetched:
        """GET `url` into memory, following checked redirects, retrying transient errors.

        With `etag` / `last_modified` (from an earlier Fetched) the request is
        conditional: an unchanged resource comes back as `not_modified`, no body.
        """
        limit = max_bytes or self.settings.max_download_bytes
        conditions = {}
        if etag:
            conditions["If-None-Match"] = etag
        if last_modified:
            conditions["If-Modified-Since"] = last_modified
        final_url, answer = self._request(url, limit, polite_delay, conditions)
        return Fetched(
            url,
            final_url,
            b"".join(answer.chunks),
            answer.content_type,
            etag=answer.etag or (etag if answer.not_modified else None),
            last_modified=answer.last_modified or (last_modified if answer.not_modified else None),
            not_modified=answer.not_modified,
        )

    def download(
        self,
        url: str,
        dest: Path,
        *,
        max_bytes: int | None = None,
        polite_delay: float = 0.0,
        expect_pdf: bool = False,
    ) -> Path:
        """Fetch `url` (in memory, within the size cap) and write it to `dest` atomically:
        no partial file is ever left at `dest`."""
        fetched = self.get(url, max_bytes=max_bytes, polite_delay=polite_delay)
        if expect_pdf and not fetched.content.startswith(b"%PDF-"):
            got = fetched.content_type or "unknown content"
            raise FetchError(f"{url}: not a PDF (got {got})")
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
        try:
            tmp.write_bytes(fetched.content)
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        return dest

    # ---- internals ----------------------------------------------------------------

    def _request(
        self, url: str, limit: int, polite_delay: float, headers: dict[str, str] | None = None
    ) -> tuple[str, _Answer]:
        for _hop in range(MAX_REDIRECTS + 1):
            addresses = check_url_allowed(url, allow_private=self.settings.allow_private)
            response_or_url = self._with_retries(url, addresses, limit, polite_delay, headers or {})
            if isinstance(response_or_url, str):
                url = response_or_url  # a redirect: check the next hop too
                continue
            return url, response_or_url
        raise FetchError(f"{url}: too many redirects")

    def _with_retries(
        self, url: str, addresses: list, limit: int, polite_delay: float, headers: dict[str, str]
    ) -> str | _Answer:
        attempts = max(1, self.settings.http_retries + 1)
        for attempt in range(attempts):
            self._wait_politely(url, polite_delay)
            try:
                with self._stream_pinned(url, addresses, headers) as response:
                    validators = (
                        response.headers.get("etag"),
                        response.headers.get("last-modified"),
                    )
                    if response.status_code == 304 and headers:
                        return _Answer(None, [], *validators, not_modified=True)
                    # httpx calls every 3xx a redirect; only one with a Location is followed.
                    if response.is_redirect and "location" in response.headers:
                        return urljoin(url, response.headers["location"])
                    if response.is_redirect:
                        raise FetchError(f"HTTP {response.status_code} without a Location: {url}")
                    if response.status_code in RETRY_STATUS and attempt + 1 < attempts:
                        delay = _retry_after(response.headers.get("retry-after"), attempt)
                        time.sleep(delay)
                        continue
                    if response.status_code >= 400:
                        raise FetchError(
                            f"HTTP {response.status_code} {response.reason_phrase}: {url}"
                        )
                    chunks = _read_capped(response, url, limit)
                    content_type = _mime(response.headers.get("content-type"))
                    return _Answer(content_type, chunks, *validators, not_modified=False)
            except httpx.ConnectError as exc:
                raise NetworkUnreachable(f"cannot connect to {_host(url)}: {_reason(exc)}") from exc
            except httpx.TimeoutException as exc:
                if attempt + 1 < attempts:
                    time.sleep(_retry_after(None, attempt))
                    continue
                raise FetchError(
                    f"{url}: timed out after {self.settings.http_timeout:g} s"
                ) from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"{url}: {_reason(exc)}") from exc
        raise FetchError(f"{url}: gave up after {attempts} attempts")

    @contextlib.contextmanager
    def _stream_pinned(self, url: str, addresses: list, headers: dict[str, str]):
        """GET `url` from the first checked address that accepts a connection."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        default_port = 443 if parts.scheme == "https" else 80
        name = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets
        host_header = name if parts.port in (None, default_port) else f"{name}:{parts.port}"
        last: httpx.ConnectError | None = None
        for address in addresses:
            literal = f"[{address}]" if address.version == 6 else str(address)
            netloc = literal + (f":{parts.port}" if parts.port else "")
            pinned = urlunsplit(parts._replace(netloc=netloc))
            request = self._client.build_request(
                "GET",
                pinned,
                headers={**headers, "Host": host_header},
                extensions={"sni_hostname": host},  # TLS name and certificate: the host's
            )
            try:
                response = self._client.send(request, stream=True)
            except httpx.ConnectError as exc:
                last = exc  # like the OS resolver's connect: try the next address
                continue
            try:
                yield response
            finally:
                response.close()
                self._answered(url)
            return
        raise last or httpx.ConnectError(f"no address for {host}")

    def _wait_politely(self, url: str, delay: float) -> None:
        """Wait until `delay` seconds have passed since the host last answered (from
        the end of its last response, so a slow answer never shortens the pause)."""
        if delay <= 0:
            return
        host = _host(url)
        with self._lock:
            wait = self._last_request.get(host, 0.0) + delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last_request[host] = time.monotonic()

    def _answered(self, url: str) -> None:
        with self._lock:
            self._last_request[_host(url)] = time.monotonic()

    def close(self) -> None:
        self._client.close()


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def check_url_allowed(url: str, *, allow_private: bool) -> list[Address]:
    """The addresses to connect to for `url`, resolved once and all checked.

    Refuses non-http(s) URLs, URLs too long to be real, and, unless allowed,
    any host with an address that is not public, in every spelling: decimal
    (2130706433), hex (0x7f.1), short (127.1), IPv4-mapped or -embedded IPv6,
    link-local, or a name that resolves to one of those.
    """
    if len(url) > MAX_URL_CHARS:
        raise FetchError(f"URL of {len(url):,} characters refused (limit {MAX_URL_CHARS:,})")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"only http(s) URLs are supported: {url}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # a port that is not a number
        raise FetchError(f"not a valid URL: {url}") from exc
    if not host:
        raise FetchError(f"not a valid URL: {url}")
    if parts.username is not None or parts.password is not None:
        # It would be stored as the source's name and shown to every reader.
        raise FetchError(f"URLs with a user name or password are not accepted: {host}")
    addresses = _addresses(host, port or (443 if parts.scheme == "https" else 80))
    if not allow_private:
        for address in addresses:
            if not _is_public(address):
                kind = "a loopback" if _is_loopback(address) else "a private or reserved"
                raise FetchError(
                    f"refusing to fetch {url}: {address} is {kind} address "
                    "(use --allow-private to allow)"
                )
    return addresses


def _is_public(address: Address) -> bool:
    """Public, and so is any IPv4 address it carries (mapped, 6to4, Teredo, NAT64)."""
    if not address.is_global or address.is_multicast:
        return False
    return all(inner.is_global for inner in _embedded_ipv4(address))


def _is_loopback(address: Address) -> bool:
    return address.is_loopback or any(inner.is_loopback for inner in _embedded_ipv4(address))


def _embedded_ipv4(address: Address) -> list[ipaddress.IPv4Address]:
    if address.version != 6:
        return []
    inner = [address.ipv4_mapped, address.sixtofour, address.teredo and address.teredo[1]]
    if address in NAT64:
        inner.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [a for a in inner if a is not None]


def _addresses(host: str, port: int) -> list[Address]:
    """Every address `host` stands for: a literal, or what the resolver answers once."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise NetworkUnreachable(f"cannot resolve {host}: {reason}") from exc
    addresses: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise NetworkUnreachable(f"cannot resolve {host}: no address")
    return addresses


def _read_capped(response: httpx.Response, url: str, limit: int) -> list[bytes]:
    megabytes = f"{limit / 1024 / 1024:g} MB"
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise FetchError(f"{url} is larger than the {megabytes} limit")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise FetchError(f"{url} is larger than the {megabytes} limit")
        chunks.append(chunk)
    return chunks


def _retry_after(header: str | None, attempt: int) -> float:
    """Seconds to wait: the server's Retry-After (seconds or date), else backoff."""
    if header:
        header = header.strip()
        if header.isdigit():
            return min(float(header), MAX_RETRY_AFTER)
        when = email.utils.parsedate_to_datetime(header) if header else None
        if when is not None:
            return max(0.0, min(when.timestamp() - time.time(), MAX_RETRY_AFTER))
    return min(0.5 * 2**attempt, MAX_RETRY_AFTER)


def _mime(header: str | None) -> str | None:
    return header.split(";")[0].strip().lower() if header else None


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:160]
