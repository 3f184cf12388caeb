"""A loopback HTTP server for tests: canned routes, request log, no network."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # A list of (status, headers) answered before the final one (retries).
    before: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    # Validators: sent with the body, and a matching conditional request gets a 304.
    etag: str | None = None
    last_modified: str | None = None

    def not_modified(self, request_headers) -> bool:
        if self.etag and request_headers.get("If-None-Match") == self.etag:
            return True
        since = request_headers.get("If-Modified-Since")
        return bool(self.last_modified and since == self.last_modified)

    def validators(self) -> dict[str, str]:
        found = {"ETag": self.etag, "Last-Modified": self.last_modified}
        return {key: value for key, value in found.items() if value}


class LoopbackServer:
    """Serves `routes` on 127.0.0.1; records (path, headers, time) of each request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route | Callable[[], Route]] = {}
        self.requests: list[tuple[str, dict[str, str], float]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                server.requests.append((self.path, dict(self.headers), time.monotonic()))
                route = server.routes.get(self.path) or server.routes.get(self.path.split("?")[0])
                if callable(route):
                    route = route()
                if route is None:
                    route = Route(404, b"not found")
                if route.before:
                    status, headers = route.before.pop(0)
                    self._answer(status, headers, b"try again")
                    return
                time.sleep(route.delay)
                if route.not_modified(self.headers):
                    self._answer(304, route.validators(), b"")
                    return
                self._answer(route.status, {**route.headers, **route.validators()}, route.body)

            def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if "Content-Length" not in headers and "Transfer-Encoding" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def closed_port() -> int:
    """A loopback port nothing listens on (bind, read the port, close)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
