"""The access policy wired into Gradio's server (assistant/access.py decides).

- `password`: Gradio's login page; `AccessPolicy.check_login` checks the hash.
- `proxy`: Gradio's `auth_dependency` reads the user from the proxy's header.
  uvicorn normally replaces the peer address with X-Forwarded-For when the
  peer is 127.0.0.1; in proxy mode that is turned off, so "is this request
  from a trusted proxy" is asked of the real TCP peer.
- Uploads: Gradio's /upload route stores a file for any signed-in user before
  any handler runs; `LibrarianUploads` refuses it for non-librarians.
- A network address with no login refuses to start unless anonymous use was
  asked for (`--allow-anonymous`); anonymous users are then readers.
"""

from __future__ import annotations

import inspect
import logging
import os

from fastapi import Request
from starlette.middleware import Middleware
from starlette.responses import JSONResponse

from paperlens.assistant.access import LIBRARIAN, AccessPolicy, is_loopback
from paperlens.ingest.errors import PaperlensError

log = logging.getLogger("paperlens.access")


def check_exposure(host: str | None, policy: AccessPolicy, allow_anonymous: bool) -> None:
    """Refuse to serve a network address to anonymous users unless asked to."""
    if is_loopback(host) or policy.requires_login:
        return
    if not allow_anonymous:
        raise PaperlensError(
            f"refusing to listen on {host} with no login: anyone who reaches the port "
            "could use the app. Add users (`paperlens users add NAME --role librarian`), "
            "use PAPERLENS_AUTH=proxy behind a proxy that signs people in, or pass "
            "--allow-anonymous (everyone is then a reader; see docs/deploying.md)"
        )
    log.warning(
        "listening on %s with no login (--allow-anonymous): everyone is a %s",
        host,
        policy.anonymous_role,
    )


def auth_launch_options(policy: AccessPolicy) -> dict:
    """Keyword arguments for `Blocks.launch` that enforce `policy`."""
    options: dict = {"app_kwargs": {"middleware": [Middleware(LibrarianUploads, policy=policy)]}}
    if policy.mode == "password":
        options["auth"] = policy.check_login
        options["auth_message"] = "paperlens: sign in (ask a librarian for an account)."
    elif policy.mode == "proxy":
        # The TCP peer must be the proxy itself, not what X-Forwarded-For claims.
        os.environ["FORWARDED_ALLOW_IPS"] = ""
        options["auth_dependency"] = policy.proxy_user
    return options


async def current_user(request: Request) -> str | None:
    """The signed-in user, the way Gradio's routes find them (token cookie or proxy)."""
    app = request.scope.get("app")
    dependency = getattr(app, "auth_dependency", None)
    if dependency is not None:
        user = dependency(request)
        return await user if inspect.isawaitable(user) else user
    cookie_id = getattr(app, "cookie_id", None)
    token = request.cookies.get(f"access-token-{cookie_id}") or request.cookies.get(
        f"access-token-unsecure-{cookie_id}"
    )
    return getattr(app, "tokens", {}).get(token)


class LibrarianUploads:
    """ASGI middleware: only librarians may upload files (the Library tab's box)."""

    def __init__(self, app, policy: AccessPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope, receive, send) -> None:
        if (
            scope["type"] == "http"
            and scope.get("method") == "POST"
            and scope.get("path", "").rstrip("/").endswith("/upload")
        ):
            user = await current_user(Request(scope))
            if self.policy.role_of(user) != LIBRARIAN:
                log.warning("refused an upload from %r", user)
                response = JSONResponse(
                    {"error": "only librarians may upload files"}, status_code=403
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
