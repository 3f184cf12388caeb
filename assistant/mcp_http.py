"""The MCP tools over streamable HTTP, at /mcp on the app's own server.

Off unless PAPERLENS_MCP_HTTP=true. When on, `paperlens serve` mounts the
same tools as `paperlens mcp` (assistant/mcp_server.py) in front of the
Gradio routes, on the app's host and port. Every request to /mcp passes
through `request_allowed`, the one access decision for MCP over HTTP:

- listening beyond loopback needs PAPERLENS_MCP_TOKEN (the app refuses to
  start otherwise), and a set token is always required as
  `Authorization: Bearer <token>`;
- on loopback the SDK's DNS-rebinding protection also checks Host/Origin.

The app's sign-in (cookies) does not apply to /mcp, since MCP clients send
no browser cookies: `request_allowed` is where app roles plug in.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from contextlib import AbstractAsyncContextManager
from typing import Any

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from paperlens.assistant.api import Paperlens
from paperlens.assistant.mcp_server import build_server
from paperlens.ingest.config import Settings
from paperlens.ingest.errors import PaperlensError

MCP_PATH = "/mcp"
DEFAULT_HOST = "127.0.0.1"  # Gradio's default when neither --host nor GRADIO_SERVER_NAME is set


def serving_host(host: str | None) -> str:
    """The address the app will listen on, as Gradio resolves it."""
    return host or os.environ.get("GRADIO_SERVER_NAME") or DEFAULT_HOST


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere


def check_exposure(settings: Settings, host: str, *, login: bool = False) -> None:
    """Refuse to offer MCP without a token beyond loopback, or when the app asks people to
    sign in (MCP clients cannot; the token is their credential): one line."""
    if not settings.mcp_http or _token(settings):
        return
    if not is_loopback(host):
        raise PaperlensError(
            f"PAPERLENS_MCP_HTTP is on and the app listens on {host}: set PAPERLENS_MCP_TOKEN "
            "(clients send it as 'Authorization: Bearer <token>'), or listen on 127.0.0.1"
        )
    if login:
        raise PaperlensError(
            "PAPERLENS_MCP_HTTP is on and the app asks people to sign in: set "
            "PAPERLENS_MCP_TOKEN, the credential MCP clients send as a bearer token"
        )


def request_allowed(request: Request, settings: Settings) -> bool:
    """May this HTTP request use the MCP tools? The single access check for /mcp."""
    token = _token(settings)
    if token is None:
        return True  # loopback only: check_exposure refused anything else at start
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        value.strip().encode(), token.encode()
    )


class MCPRoute:
    """ASGI middleware: /mcp goes to the MCP app (after the access check), the rest to
    Gradio. A middleware rather than a route, so that Gradio's catch-all routes and
    its own middlewares (compression) never see MCP's streams."""

    def __init__(self, app: ASGIApp, *, mcp_app: ASGIApp, settings: Settings) -> None:
        self.app, self.mcp_app, self.settings = app, mcp_app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _route_path(scope).rstrip("/") != MCP_PATH:
            await self.app(scope, receive, send)
            return
        if not request_allowed(Request(scope), self.settings):
            refusal = JSONResponse(
                {"error": "unauthorized: send Authorization: Bearer <PAPERLENS_MCP_TOKEN>"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="paperlens"'},
            )
            await refusal(scope, receive, send)
            return
        await self.mcp_app(scope, receive, send)


def launch_options(lens: Paperlens, settings: Settings, host: str | None) -> dict[str, Any]:
    """Extra `Blocks.launch` arguments that mount MCP on the app; {} when it is off."""
    if not settings.mcp_http:
        return {}
    where = serving_host(host)
    server = build_server(lens, allow_ingest=settings.mcp_allow_ingest)
    # On loopback the SDK checks Host/Origin headers against DNS rebinding.
    mcp_app = server.streamable_http_app(streamable_http_path=MCP_PATH, host=where)

    def lifespan(_app: Any) -> AbstractAsyncContextManager[None]:
        return server.session_manager.run()  # the task group MCP sessions run in

    middleware = Middleware(MCPRoute, mcp_app=mcp_app, settings=settings)
    return {"app_kwargs": {"lifespan": lifespan, "middleware": [middleware]}}


def _token(settings: Settings) -> str | None:
    secret = settings.mcp_token.get_secret_value() if settings.mcp_token else ""
    return secret.strip() or None


def _route_path(scope: Scope) -> str:
    """The path below the app's root path (behind a reverse proxy's prefix)."""
    path, root = scope.get("path", ""), scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
