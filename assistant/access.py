"""Who may use the app, and who may change the library.

Two roles: a *reader* searches, asks, finds similar papers, summarizes and
views passages; a *librarian* may also change what everyone sees (ingest,
upload, delete, re-ingest, refresh, the generator in use).

Three ways to know who is asking (`PAPERLENS_AUTH`):
- `none`: nobody logs in. On loopback (the default) the one person at the
  keyboard is a librarian; an anonymous app on a network address (allowed
  only with `--allow-anonymous`) gives everyone `anonymous_role` (reader).
- `password`: Gradio's login page, checked against a users file of scrypt
  hashes (`paperlens users add NAME --role librarian`), never plain text.
- `proxy`: a reverse proxy that already authenticated the person passes the
  user name in a header; it is believed only from the configured proxy
  addresses, anything else is refused.

`auto` (the default) is `password` when the users file exists, else `none`.
Roles are checked on the server in every handler that changes state
(`AccessPolicy.require`): hiding a button is not access control.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import secrets
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from paperlens.ingest.config import Settings
from paperlens.ingest.errors import PaperlensError

log = logging.getLogger("paperlens.access")

READER, LIBRARIAN = "reader", "librarian"
ROLES = (READER, LIBRARIAN)
MODES = ("auto", "none", "password", "proxy")
USER_NAME = re.compile(r"^[\w.@+\-]{1,64}$")
# scrypt at n=2**14, r=8 (16 MB, ~50 ms): the cost OWASP lists for scrypt.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
# Failed logins per user name before that name is refused for a while.
MAX_FAILURES, LOCKOUT_SECONDS = 5, 300.0


class AccessDenied(PaperlensError):
    """The signed-in person's role does not allow this action."""


# ---- password hashes ------------------------------------------------------------------


def hash_password(password: str) -> str:
    """A salted scrypt hash, self-describing: `scrypt$n$r$p$salt$hash` (base64)."""
    if len(password) < 8:
        raise PaperlensError("choose a password of at least 8 characters")
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(
        ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)]
    )


def verify_password(password: str, stored: str) -> bool:
    """True if `password` matches a hash made by `hash_password` (constant-time compare)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# ---- the users file ---------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    name: str
    role: str
    hash: str | None = None  # absent for users known only through the proxy


def users_file(settings: Settings) -> Path:
    """PAPERLENS_USERS_FILE, else users.toml in the data directory."""
    return Path(settings.users_file) if settings.users_file else settings.home / "users.toml"


def load_users(path: Path) -> dict[str, User]:
    """Read a TOML (`[users.NAME] hash=… role=…`) or JSON (`{"users": {NAME: {…}}}`) file."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:  # tomllib/json errors are ValueErrors
        raise PaperlensError(f"{path}: cannot read the users file ({exc})") from exc
    users = {}
    for name, entry in (data.get("users") or {}).items():
        role = entry.get("role", READER) if isinstance(entry, dict) else None
        if role not in ROLES:
            raise PaperlensError(f"{path}: user {name!r} has no valid role (reader | librarian)")
        users[name] = User(name, role, entry.get("hash"))
    return users


def add_user(path: Path, name: str, role: str, password: str | None) -> User:
    """Add or replace a user in the TOML users file (written atomically, mode 0600)."""
    if not USER_NAME.match(name):
        raise PaperlensError("user names are 1-64 letters, digits or . @ + - _")
    if role not in ROLES:
        raise PaperlensError(f"unknown role {role!r} (reader | librarian)")
    if path.suffix == ".json":
        raise PaperlensError("`paperlens users add` writes TOML; name the file users.toml")
    users = load_users(path)
    users[name] = User(name, role, hash_password(password) if password else None)
    lines = ["# paperlens users: scrypt password hashes, never passwords.", ""]
    for user in sorted(users.values(), key=lambda u: u.name):
        lines.append(f"[users.{json.dumps(user.name)}]")
        lines.append(f"role = {json.dumps(user.role)}")
        if user.hash:
            lines.append(f"hash = {json.dumps(user.hash)}")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("\n".join(lines))
    os.replace(tmp, path)
    return users[name]


# ---- the policy the app enforces --------------------------------------------------------


@dataclass
class AccessPolicy:
    """How people are identified and which role each one has."""

    mode: str  # none | password | proxy
    users_path: Path
    anonymous_role: str = LIBRARIAN  # mode "none" only
    proxy_header: str = "X-Forwarded-User"
    trusted_proxies: list[str] = field(default_factory=lambda: ["127.0.0.1", "::1"])
    proxy_default_role: str = READER
    _users: dict[str, User] = field(default_factory=dict, repr=False)
    _mtime: float | None = field(default=None, repr=False)
    _failures: dict[str, list[float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, *, host: str | None = None) -> AccessPolicy:
        """The policy for an app listening on `host` (None: loopback)."""
        mode = (settings.auth or "auto").lower()
        if mode not in MODES:
            raise PaperlensError(f"unknown PAPERLENS_AUTH {mode!r} (none | password | proxy)")
        path = users_file(settings)
        if mode == "auto":
            mode = "password" if path.exists() else "none"
        if mode == "password" and not load_users(path):
            raise PaperlensError(
                f"password login needs users: none in {path} "
                "(add one with `paperlens users add NAME --role librarian`)"
            )
        anonymous = settings.anonymous_role or (LIBRARIAN if is_loopback(host) else READER)
        if anonymous not in ROLES:
            raise PaperlensError(f"unknown anonymous role {anonymous!r} (reader | librarian)")
        policy = cls(
            mode=mode,
            users_path=path,
            anonymous_role=anonymous,
            proxy_header=settings.auth_header,
            trusted_proxies=list(settings.trusted_proxies),
            proxy_default_role=settings.proxy_default_role,
        )
        policy.users()  # a broken users file is an error at start-up, not at first login
        return policy

    @property
    def requires_login(self) -> bool:
        return self.mode in ("password", "proxy")

    def users(self) -> dict[str, User]:
        """The users file, re-read when it changes (users added while the app runs)."""
        try:
            mtime = self.users_path.stat().st_mtime
        except FileNotFoundError:
            mtime = None
        with self._lock:
            if mtime != self._mtime:
                self._users, self._mtime = load_users(self.users_path), mtime
            return self._users

    def role_of(self, user: str | None) -> str | None:
        """The role of a signed-in user (None: not allowed in at all)."""
        if self.mode == "none":
            return self.anonymous_role
        if user is None:
            return None
        known = self.users().get(user)
        if known is not None:
            return known.role
        return self.proxy_default_role if self.mode == "proxy" else None

    def check_login(self, name: str, password: str) -> bool:
        """Gradio's `auth` callable: a password login, throttled per user name."""
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(name, []) if now - t < LOCKOUT_SECONDS]
            self._failures[name] = recent
        if len(recent) >= MAX_FAILURES:
            log.warning("login refused for %r: too many failed attempts", name)
            return False
        user = self.users().get(name)
        # Hash even for unknown names, so timing does not tell which names exist.
        ok = verify_password(password, user.hash if user and user.hash else _DUMMY_HASH)
        ok = ok and user is not None and user.hash is not None
        with self._lock:
            if not ok:
                self._failures.setdefault(name, []).append(now)
            else:
                self._failures.pop(name, None)
        log.info("login %s for %r", "ok" if ok else "failed", name)
        return ok

    def proxy_user(self, request) -> str | None:
        """Gradio's `auth_dependency` in proxy mode: the header's user, from a trusted peer."""
        peer = request.client.host if request.client else None
        if not _address_in(peer, self.trusted_proxies):
            log.warning("refused a request from %s: not a trusted proxy", peer)
            return None
        user = (request.headers.get(self.proxy_header) or "").strip()
        if not USER_NAME.match(user):
            return None
        return user

    def require(self, request, role: str = LIBRARIAN) -> str:
        """The caller's name (or "anonymous") if their role allows `role`; else AccessDenied.

        `request` is the `gr.Request` Gradio passes to a handler; it is checked on the
        server for every call, whichever page, button or API client sent it.
        """
        user = getattr(request, "username", None) if request is not None else None
        have = self.role_of(user)
        if have is None or (role == LIBRARIAN and have != LIBRARIAN):
            log.warning("denied %s to %r (role %s)", role, user, have)
            raise AccessDenied(
                "only librarians may change the library or its settings"
                if have
                else "sign in first"
            )
        return user or "anonymous"

    def may(self, request, role: str = LIBRARIAN) -> bool:
        try:
            self.require(request, role)
        except AccessDenied:
            return False
        return True


_DUMMY_HASH = "scrypt$16384$8$1$" + _b64(b"\0" * 16) + "$" + _b64(b"\0" * 32)


def is_loopback(host: str | None) -> bool:
    """True for the addresses only this machine can reach (None: Gradio's 127.0.0.1)."""
    if host is None or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _address_in(address: str | None, allowed: list[str]) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in allowed:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False
